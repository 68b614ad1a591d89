"""Lexical support: which bundles a text shares words with, over bundle names, aliases, item names and
material names (jieba with the catalogue's own words), each word weighted by how few bundles use it.

The classifier ranks bundles by what it learned; this says which of them the citizen's own words
point at, so that a bundle is never offered back without some support from the text.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache, wraps
from typing import Any, Callable, Iterable

from pypinyin import lazy_pinyin

from . import db, tokens

Records = dict[str, dict[str, dict[str, Any]]]
MATERIAL_WEIGHT = 0.5
# A word typed with the wrong character of the same sound (残急证, 公组房, 融姿: pinyin input) still
# points at its bundle, a little less than the right word; it must share a character with it.
HOMOPHONE_WEIGHT = 0.8
LONGEST_WORD = 6
GENERIC_SHARE = 0.3  # a word in more than this share of bundles (申请, 证明, 登记) supports none of them
# Words that only ask how, where or what to bring (the frame of a question, not its subject): a question that is a
# topic word and nothing but these (公积金咋个弄, 户口的事想问下, 办社保) names only the topic. Longest first.
ASKING = sorted({
    "请问", "请教", "问一下", "问下", "问哈", "咨询一下", "咨询", "了解一下", "了解", "想问", "打扰一下", "麻烦",
    "你好", "您好", "老师", "谢谢", "我想", "我要", "想要", "我们", "我", "想", "要", "需要", "准备",
    "怎么办理", "怎么办", "怎么弄", "怎么搞", "怎么", "咋个办", "咋个整", "咋个弄", "咋个", "咋办", "咋弄", "咋整", "咋",
    "如何", "办理", "办", "弄", "整", "搞", "处理", "申请", "去哪里", "在哪里", "在哪", "哪里", "去哪", "找哪个",
    "哪些", "什么", "啥子", "啥", "些", "手续", "流程", "材料", "证件", "东西", "事情", "事儿", "事", "方面", "问题",
    "相关", "关于", "有关", "的", "了", "吗", "呢", "啊", "哦", "嘛", "呀", "吧", "一下", "下", "个", "点", "一些",
    "这个", "那个", "这些", "该", "应该", "能", "可以", "帮我", "看看", "有没有",
}, key=len, reverse=True)
# A customer's words about a shop or venue (哪家好, 票价, 退费, 投诉, 买药) and the words of someone who opens or runs one
# (开, 许可, 执照, 老板). A question with the first and none of the second is asked as a customer: the bundles for opening a
# business (their names say 开办 or 我要开) do not cover it (电影院有没有学生票优惠, 药店能不能刷医保卡买药: Yishi's
# routing judgement, not a fact shown to citizens).
CUSTOMER = ("哪家", "哪个好", "推荐", "好看", "靠谱", "便宜", "划算", "票价", "优惠", "打折", "会员卡", "学费", "退费", "退款",
            "退钱", "投诉", "举报", "维权", "纠纷", "合不合法", "欺负", "跑路", "买药", "刷医保", "住宿", "入住", "刷身份证",
            "recommend", "best", "cheap", "ticket", "refund", "complain")
RUNNING = ("开", "办证", "许可", "执照", "经营", "老板", "店主", "营业", "备案", "登记", "注册", "设立", "消防", "装修", "加盟",
           "转让", "承包", "open", "licen", "permit", "owner", "run", "register")
OPENING = re.compile(r"开办|我要开")


def _per_catalogue(build: Callable[[Records], Any]) -> Callable[[Records], Any]:
    """build(records), built once and kept while the same catalogue (the same records object) is loaded."""
    kept: list[tuple[Records, Any]] = []

    @wraps(build)
    def cached(records: Records) -> Any:
        if not kept or kept[0][0] is not records:
            kept[:] = [(records, build(records))]
        return kept[0][1]

    return cached


@lru_cache(maxsize=None)
def _sound(char: str) -> str:
    """A character's pinyin without tone (its most common reading), or the character itself."""
    return lazy_pinyin(char)[0] if "\u3400" <= char <= "\u9fff" else char


def _sounds(weights: dict[str, dict[str, float]]) -> dict[tuple[str, ...], list[str]]:
    """The catalogue's Chinese words by how they sound."""
    found: dict[tuple[str, ...], list[str]] = {}
    for word in weights:
        if 2 <= len(word) <= LONGEST_WORD and re.fullmatch(r"[\u3400-\u9fff]+", word):
            found.setdefault(tuple(_sound(c) for c in word), []).append(word)
    return found


def _texts(records: Records, slug: str) -> list[tuple[str, float]]:
    """(text, how much a word of it says about the bundle): its names and items fully, a material's name
    less (社保缴费证明 is asked for by many bundles that are not about social insurance)."""
    bundle = records["bundles"][slug]
    items = [records["items"][entry["item"]] for entry in bundle["items"]]
    materials = [records["materials"][use["material"]]["name"] for item in items for use in item["materials"]]
    return ([(text, 1.0) for text in [bundle["name"], *bundle["aliases"], *(item["name"] for item in items)]]
            + [(text, MATERIAL_WEIGHT) for text in materials])


@_per_catalogue
def index(records: Records) -> tuple[tuple[str, ...], dict[str, dict[str, float]], dict[tuple[str, ...], list[str]]]:
    """(the catalogue's words, word → {slug: weight}, sound → words); built once per catalogue load."""
    words = tokens.vocabulary_key(db.vocabulary(records))
    weights = _word_weights(records, lambda slug: (
        (token, weight) for text, weight in _texts(records, slug)
        for token in tokens.tokenize(text.lower(), words) if len(token) >= 2))
    return words, weights, _sounds(weights)


def _word_weights(records: Records, words_of: Callable[[str], Iterable[tuple[str, float]]]) -> dict[str, dict[str, float]]:
    """word → {slug: weight}: each bundle's words (`words_of(slug)`: word, how much it says about the bundle), weighted
    by how few bundles use them; a word in more than GENERIC_SHARE of the bundles supports none."""
    bundles_of: dict[str, dict[str, float]] = {}
    for slug in records["bundles"]:
        for word, weight in words_of(slug):
            found = bundles_of.setdefault(word, {})
            found[slug] = max(found.get(slug, 0.0), weight)
    total = len(records["bundles"]) or 1
    return {word: {slug: weight * math.log(total / len(slugs)) for slug, weight in slugs.items()}
            for word, slugs in bundles_of.items() if len(slugs) <= max(1.0, GENERIC_SHARE * total)}


class Support(dict):
    """slug → how strongly the text's own words point at that bundle, best first; with `topics`, the
    bundles of the broad topics the text names (the catalogue's topics: 户口, 社保, 贷款…; in topic order,
    each once), `specific`, the support of the text with those topic words taken out, `topic_only` when the
    text says nothing but the topic, and `shared`, the bundles in every topic named."""

    def __init__(self, weights: dict[str, float], topics: list[str], specific: dict[str, float],
                 topic_only: bool = False, shared: list[str] | None = None, item_holders: list[str] | None = None,
                 as_customer: frozenset[str] = frozenset(), excluded: frozenset[str] = frozenset()) -> None:
        super().__init__(weights)
        self.topics = topics
        self.specific = specific
        self.topic_only = topic_only  # a topic named, and nothing else but words that only ask (ASKING)
        self.shared = shared or []  # with several topics named (创业补贴), the bundles every one of them holds
        # the question is an item's name as the catalogue writes it and nothing else but words that only ask
        # (公章刻制及备案怎么办, 建设工程消防验收在哪办): the bundles that hold that item, in catalogue order
        self.item_holders = item_holders or []
        # the text asks as a customer of a shop or venue (CUSTOMER): the bundles for opening a business, which cannot
        # answer it
        self.as_customer = as_customer
        # the bundles whose exclusions (catalogue: exclusions) the text names: 二手车 is no 二手房
        self.excluded = excluded


def support(records: Records, text: str) -> Support | None:
    """What the text's own words point at (absent from it: no support). An English question is read against the
    bundles' English names and summaries (english_support); None when the text has neither a Chinese nor an English
    word the catalogue could know (digits, symbols): no signal."""
    if not re.search(r"[\u3400-\u9fff]", text):
        return english_support(records, text)
    text = text[:500].lower()
    named = [topic for topic in records.get("topics", {}).values() if any(w in text for w in topic["words"])]
    weights = _weights(records, text)
    holders, customer, excluded = _item_named(records, text), _as_customer(records, text), _excluded(records, text)
    if not named:
        return Support(weights, [], weights, item_holders=holders, as_customer=customer, excluded=excluded)
    topic_words = {w for topic in named for w in topic["words"]}
    members = list(dict.fromkeys(slug for topic in named for slug in topic["bundles"]))
    shared = [slug for slug in members if all(slug in topic["bundles"] for topic in named)] if len(named) > 1 else []
    return Support(weights, members, _weights(records, text, leave_out=topic_words), _only(text, topic_words), shared,
                   holders, customer, excluded)


def _names_one_not_other(text: str, words: Iterable[str], unless: Iterable[str]) -> bool:
    """The text (lower case) holds one of `words` and none of `unless` (compared in lower case)."""
    return any(w.lower() in text for w in words) and not any(w.lower() in text for w in unless)


def _excluded(records: Records, text: str) -> frozenset[str]:
    """The bundles an exclusion of the catalogue keeps away from this text: one of its words, none of its `unless`."""
    text = text.lower()
    return frozenset(rule["bundle"] for rule in records.get("exclusions", {}).values()
                     if _names_one_not_other(text, rule["words"], rule.get("unless") or []))


@_per_catalogue
def _opening(records: Records) -> frozenset[str]:
    """The bundles for opening a business: their names say so (我要开书店, 企业开办一件事, 开办超市便利店一件事)."""
    return frozenset(slug for slug, bundle in records["bundles"].items() if OPENING.search(bundle["name"]))


def _as_customer(records: Records, text: str) -> frozenset[str]:
    """The bundles for opening a business, when the text asks as their customer (CUSTOMER words, none of RUNNING)."""
    if _names_one_not_other(text.lower(), CUSTOMER, RUNNING):
        return _opening(records)
    return frozenset()


SHORTEST_ITEM_NAME = 4  # 生育登记; shorter names (公章) are words of many questions, not a question of their own


@_per_catalogue
def _item_names(records: Records) -> list[tuple[str, list[str]]]:
    """(an item's name as a citizen may copy it: whole, or without its bracketed part; the bundles holding the item),
    longest first."""
    holders: dict[str, list[str]] = {}
    for slug, bundle in records["bundles"].items():
        for entry in bundle["items"]:
            name = records["items"][entry["item"]]["name"].lower()
            for form in {_spaced(name).strip(), _spaced(re.sub(r"[（(][^）)]*[）)]", "", name)).strip()}:
                if len(form) >= SHORTEST_ITEM_NAME and slug not in holders.setdefault(form, []):
                    holders[form].append(slug)
    return sorted(holders.items(), key=lambda pair: -len(pair[0]))


def _item_named(records: Records, text: str) -> list[str]:
    """The bundles holding the item the text names, when the text is that name and words that only ask."""
    spaced = _spaced(text)
    for name, slugs in _item_names(records):
        if name in spaced and _only(spaced, {name}):
            return slugs
    return []


def _spaced(text: str) -> str:
    """Punctuation as spaces (how _only reads a text)."""
    return re.sub(r"[\W_]+", " ", text)


def _only(text: str, topic_words: set[str]) -> bool:
    """Nothing in the text but topic words and words that only ask (ASKING)."""
    rest = _spaced(text)
    for word in sorted(topic_words, key=len, reverse=True) + ASKING:
        rest = rest.replace(word, " ")
    return not rest.strip()


def _weights(records: Records, text: str, leave_out: set[str] = frozenset()) -> dict[str, float]:
    """slug → weight of the text's catalogue words; words holding one of `leave_out` count only when
    they point at a single bundle (上户口 in 新生儿上户口 says more than 户口)."""
    words, weights, sounds = index(records)
    found: dict[str, float] = {}
    matched = set()
    for token in tokens.tokenize(text, words):
        matched.add(token)
        if any(w in token for w in leave_out) and len(weights.get(token, {})) != 1:
            continue
        for slug, weight in weights.get(token, {}).items():
            found[slug] = found.get(slug, 0.0) + weight
    for word in _homophones(text, sounds, matched):
        for slug, weight in weights[word].items():
            found[slug] = found.get(slug, 0.0) + HOMOPHONE_WEIGHT * weight
    return dict(sorted(found.items(), key=lambda kv: -kv[1]))


def _homophones(text: str, sounds: dict[tuple[str, ...], list[str]], matched: set[str]) -> list[str]:
    """Catalogue words the text has in sound but not in writing, sharing at least one character."""
    heard = [_sound(c) for c in text]
    found: list[str] = []
    for size in range(2, LONGEST_WORD + 1):
        for start in range(len(text) - size + 1):
            window = text[start:start + size]
            for word in sounds.get(tuple(heard[start:start + size]), ()):
                if word != window and word not in matched and any(a == b for a, b in zip(window, word, strict=True)):
                    matched.add(word)
                    found.append(word)
    return found


# English questions (issue 11, req 7): the bundles' English names (name_en) and, counting half, their summaries
# (summary_en) are the words an English question can share with a bundle; weighted like the Chinese words, by how
# few bundles use them (KTV, arcade, insolvency, freelancer say much; licence, company, permit say little).
ENGLISH_SUMMARY_WEIGHT = 0.5
# words that say nothing about a bundle: scikit-learn's English stop words (installed with Rasa), and the words of
# asking for a service or naming the place (as ASKING for Chinese)
ENGLISH_ASKING = frozenset({"need", "want", "plan", "planning", "open", "opening", "start", "starting", "apply",
                            "applying", "get", "getting", "require", "required", "requirement", "document", "paper",
                            "permit", "licence", "license", "approval", "procedure", "step", "new", "small", "online",
                            "longquanyi", "longquan", "chengdu", "district", "zone", "development", "one", "same", "time",
                            "office", "department", "window", "form", "handled", "needed", "like", "just"})


def _english_words(text: str) -> list[str]:
    """Lower-case words of three letters or more, plural endings taken off (permits → permit, subsidies → subsidy),
    without the words that say nothing about a bundle."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    words = []
    for word in re.findall(r"[a-z]{3,}", text.lower()):
        if word.endswith("ies") and len(word) > 4:
            word = word[:-3] + "y"
        elif word.endswith("s") and not word.endswith("ss") and len(word) > 3:
            word = word[:-1]
        if word not in ENGLISH_STOP_WORDS and word not in ENGLISH_ASKING:
            words.append(word)
    return words


@_per_catalogue
def _english_index(records: Records) -> dict[str, dict[str, float]]:
    bundles = records["bundles"]
    return _word_weights(records, lambda slug: (
        (word, weight) for text, weight in ((bundles[slug].get("name_en") or "", 1.0),
                                            (bundles[slug].get("summary_en") or "", ENGLISH_SUMMARY_WEIGHT))
        for word in _english_words(text)))


def english_support(records: Records, text: str) -> Support | None:
    """What an English text's words point at, over the bundles' English names and summaries; None without a word."""
    words = _english_words(text[:500])
    if not words:
        return None
    weights = _english_index(records)
    found: dict[str, float] = {}
    for word in dict.fromkeys(words):
        for slug, weight in weights.get(word, {}).items():
            found[slug] = found.get(slug, 0.0) + weight
    ranked = dict(sorted(found.items(), key=lambda kv: -kv[1]))
    return Support(ranked, [], ranked, as_customer=_as_customer(records, text), excluded=_excluded(records, text))
