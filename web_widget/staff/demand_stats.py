"""What citizens ask for: questions per bundle per day and week, the share of fallbacks, and the
questions nothing fits, grouped by similar wording (the list staff pick the next bundles from).

Pure: takes the questions read from the tracker store (conversations.questions) and the web app's
unanswered questions, returns plain data. Deterministic: the same input gives the same groups.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import jieba
import yaml

from assistant.training import TEMPLATES
from catalogue.tokens import tokenize
from chattext import normalize

from .tracker import Question, local

# Two questions are alike when the words they share carry at least this share of the shorter one's
# weight, and one shared word is specific (jieba's IDF at least KEY_WEIGHT: 洗车 11.4, 护照 9.7, but
# 怎么办 6.6, 公司 3.5).
SIMILAR = 0.5
KEY_WEIGHT = 7.0


@dataclass
class Period:
    """One day or one week (starting Monday) of questions."""

    start: date
    end: date
    total: int = 0
    fallback: int = 0
    clarify: int = 0  # asked back and no bundle picked
    other: int = 0  # small talk, follow-ups, browsing
    bundles: Counter = field(default_factory=Counter)

    @property
    def fallback_share(self) -> float:
        return self.fallback / self.total if self.total else 0.0


Kept = tuple[str, str, str, int]  # (ISO day, outcome, bundle, count) of purged conversations (yishi/retention.py)


def days(questions: Iterable[Question], start: date, end: date, kept: Iterable[Kept] = ()) -> list[Period]:
    """Every day from start to end (inclusive), zeros included."""
    periods = {start + timedelta(n): Period(start + timedelta(n), start + timedelta(n))
               for n in range((end - start).days + 1)}
    return _count(questions, kept, periods, lambda d: d)


def weeks(questions: Iterable[Question], start: date, end: date, kept: Iterable[Kept] = ()) -> list[Period]:
    """Every week (Monday to Sunday) touching the range, cut to the range."""
    first = start - timedelta(start.weekday())
    mondays = [first + timedelta(7 * n) for n in range((end - first).days // 7 + 1)]
    periods = {m: Period(max(m, start), min(m + timedelta(6), end)) for m in mondays}  # only days in the range
    return _count(questions, kept, periods, lambda d: d - timedelta(d.weekday()))


def _count(questions: Iterable[Question], kept: Iterable[Kept], periods: dict[date, Period], key) -> list[Period]:
    counts = [(local(q.at).date(), q.outcome, q.bundle, 1) for q in questions]
    counts += [(date.fromisoformat(day), outcome, bundle or None, n) for day, outcome, bundle, n in kept]
    for day, outcome, bundle, n in counts:
        period = periods.get(key(day))
        if period is None:
            continue
        period.total += n
        if outcome == "bundle":
            period.bundles[bundle] += n
        else:
            setattr(period, outcome, getattr(period, outcome) + n)
    return list(periods.values())


def per_bundle(day_periods: list[Period], week_periods: list[Period]) -> list[dict]:
    """One row per bundle asked about: total, count per week and per day; most asked first."""
    totals = Counter()
    for period in day_periods:
        totals.update(period.bundles)
    return [{"bundle": slug, "total": total, "weeks": [w.bundles[slug] for w in week_periods],
             "days": [d.bundles[slug] for d in day_periods]}
            for slug, total in sorted(totals.items(), key=lambda pair: (-pair[1], pair[0]))]


@dataclass
class Group:
    """Unmatched questions worded alike: the most frequent one stands for the group."""

    representative: str
    count: int
    examples: list[tuple[str, int]]


def unmatched_texts(questions: Iterable[Question], unanswered: Iterable[dict]) -> list[tuple[str, str]]:
    """(conversation, text) of every question nothing fitted: the tracker's fallbacks, and what the web
    app kept when Rasa did not answer at all; each conversation counts a wording once."""
    asked = [(q.sender_id, q.text) for q in questions if q.outcome == "fallback" and q.text.strip()]
    asked += [(u["session"], u["text"]) for u in unanswered if u["text"].strip()]
    found, seen, forms = [], set(), {}
    for sender, text in asked:  # each visitor counts once per wording, however often they repeat it
        form = forms.get(text)
        if form is None:  # normalising is slow (character by character): once per distinct text
            form = forms[text] = " ".join(normalize(text).split())
        key = (sender, form)
        if key not in seen:
            seen.add(key)
            found.append((sender, text))
    return found


def group(texts: Iterable[str], limit: int = 20, examples: int = 5) -> list[Group]:
    """The most frequent unmatched questions, grouped by similar wording, largest group first."""
    forms: dict[str, Counter] = {}
    for text, count in Counter(texts).items():  # normalised once per distinct text
        forms.setdefault(" ".join(normalize(text).split()), Counter())[text.strip()] += count
    # most asked first, then the shortest (a better representative), then alphabetical for determinism
    distinct = sorted(forms.items(), key=lambda pair: (-sum(pair[1].values()), len(pair[0]), pair[0]))
    groups: list[tuple[dict[str, float], list[tuple[str, int]]]] = []
    for key, spellings in distinct:
        weights = features(key)
        scores = [similarity(weights, first) for first, _ in groups]
        best = max(range(len(scores)), key=lambda i: (scores[i], -i), default=None)
        shown = min(spellings.items(), key=lambda pair: (-pair[1], pair[0]))[0]
        entry = (shown, sum(spellings.values()))
        if best is not None and scores[best] >= SIMILAR:
            groups[best][1].append(entry)
        else:
            groups.append((weights, [entry]))
    result = [Group(members[0][0], sum(n for _, n in members), members[:examples]) for _, members in groups]
    order = sorted(range(len(result)), key=lambda i: (-result[i].count, i))
    return [result[i] for i in order[:limit]]


def features(text: str) -> dict[str, float]:
    """The words of an (already normalised) question that say what it is about, with jieba's IDF weights.

    Words every question uses (the generic phrasings of assistant/training_templates.yaml: 要办啥手续,
    需要准备什么材料…) and single characters are left out when anything else is left.
    """
    words = [w for w in tokenize(text) if w not in _generic()]
    content = [w for w in words if len(w) > 1] or words
    idf, default = _idf()
    return {w: idf.get(w, default) for w in content}


def similarity(a: dict[str, float], b: dict[str, float]) -> float:
    """The shared words' weight over the lighter question's weight; 0 unless a shared word is specific."""
    shared = a.keys() & b.keys()
    if not shared or max(a[w] for w in shared) < KEY_WEIGHT:
        return 0.0
    return sum(a[w] for w in shared) / min(sum(a.values()), sum(b.values()))


@lru_cache(maxsize=1)
def _generic() -> frozenset[str]:
    templates = yaml.safe_load(TEMPLATES.read_text(encoding="utf-8"))
    phrasings = [p.replace("{a}", " ") for p in templates["prefixes"] + templates["patterns"]]
    return frozenset(w for p in phrasings for w in tokenize(normalize(p)))


@lru_cache(maxsize=1)
def _idf() -> tuple[dict[str, float], float]:
    """jieba's inverse document frequencies (from its general corpus) and their median for unknown words."""
    idf: dict[str, float] = {}
    with open(Path(jieba.__file__).parent / "analyse" / "idf.txt", encoding="utf-8") as lines:
        for line in lines:
            word, _, value = line.rstrip("\n").partition(" ")
            idf[word] = float(value)
    values = sorted(idf.values())
    return idf, values[len(values) // 2]
