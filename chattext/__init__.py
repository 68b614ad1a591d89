"""Chat text before Rasa sees it: PII masking, the slash guard, normalisation. Imports nothing from Rasa."""

from __future__ import annotations

import re
import unicodedata

from hanziconv import HanziConv

from assistant.payloads import is_button_payload

MAX_CHARS = 500

_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# A run of digit groups (an ID number may end in X) with what people type between them: spaces, dots,
# dashes, slashes, a middle dot; format characters (zero-width …) are removed before matching.
_RUN = re.compile(r"\+?[0-9Xx]+(?:[ \t.\-·/_]+[0-9Xx]+)*")
_GROUP = re.compile(r"[0-9Xx]+")
_PATTERNS = (
    ("id18", re.compile(r"[1-9][0-9]{16}[0-9Xx]")),
    ("id15", re.compile(r"[1-9][0-9]{14}")),
    ("mobile", re.compile(r"(?:86)?1[3-9][0-9]{9}")),
    ("card", re.compile(r"[0-9]{16,19}")),
)


def half_width(text: str) -> str:
    """Full-width ASCII (ＡＢＣ１２３／) as ordinary ASCII; one character for one."""
    return text.translate(_FULL_WIDTH)


def without_format_characters(text: str) -> str:
    """The text without invisible format characters (Unicode Cf: zero-width spaces and joiners, …)."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def _luhn(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _masked(digits: str) -> str | None:
    """The masked form of one number typed as digits, or None when it is no mobile, ID or bank card number."""
    for kind, pattern in _PATTERNS:
        if not pattern.fullmatch(digits):
            continue
        if kind == "id18":
            return f"{digits[:6]}{'*' * 8}{digits[14:]}"
        if kind == "id15":
            return f"{digits[:6]}{'*' * 6}{digits[12:]}"
        if kind == "mobile":
            number = digits[-11:]
            return f"{number[:3]}****{number[7:]}"
        if _luhn(digits):
            return f"{digits[:4]}{'*' * (len(digits) - 8)}{digits[-4:]}"
    return None


def _mask_run(run: str) -> str:
    """Mask every span of whole digit groups in a run that reads as a number to hide (longest first)."""
    groups = [(m.start(), m.end()) for m in _GROUP.finditer(run)]
    out, cursor, i = [], 0, 0
    while i < len(groups):
        for j in range(len(groups) - 1, i - 1, -1):
            digits = "".join(run[a:b] for a, b in groups[i:j + 1])
            if ("X" in digits[:-1] or "x" in digits[:-1]) or (masked := _masked(digits)) is None:
                continue
            start = 0 if i == 0 else groups[i][0]  # a leading "+" (of +86) goes with the number
            out.append(run[cursor:start] + masked)
            cursor, i = groups[j][1], j + 1
            break
        else:
            i += 1
    return "".join(out) + run[cursor:]


def mask_pii(text: str) -> str:
    """ID card, mobile and bank card numbers with their middle digits hidden (110105********002X,
    138****8000, 6222**********1234), however they are typed: full-width digits, spaces, dots or dashes
    between digits, invisible characters in between."""
    text = without_format_characters(text)
    if re.search(r"[\uff10-\uff19]", text):
        text = half_width(text)
    return _RUN.sub(lambda m: _mask_run(m.group(0)), text)


# What other Rasa clients send by themselves: when a conversation opens (rasa-webchat's default initPayload,
# Messenger-style clients' get-started button, the plain greeting some send), answered with Yishi's greeting;
# and their restart button, answered as 重新开始 (forget the bundle and the answers, keep the transcript).
# Only these exact texts (and what they become, so that guarding twice changes nothing); any other typed `/…`
# stays plain text.
CLIENT_PAYLOADS = {"/get_started": "/greet", "/greet": "/greet", "/start": "/greet",
                   "/restart": "/start_over", "/start_over": "/start_over"}


def guard(text: object) -> str:
    """Typed text made safe for Rasa: masked, without control characters, never a forged `/intent`
    (a client's standard opening or restart payload, CLIENT_PAYLOADS, becomes Yishi's greeting or 重新开始)."""
    if not isinstance(text, str):
        return ""
    text = _CONTROL.sub(" ", without_format_characters(text)).strip()
    if text in CLIENT_PAYLOADS:
        return CLIENT_PAYLOADS[text]
    if text.startswith("/") and not is_button_payload(text):
        text = "／" + text[1:]  # a full-width slash: Rasa's RegexMessageHandler leaves it to NLU
    return mask_pii(text)


def normalize(text: str) -> str:
    """What the NLU tokenizer sees: simplified characters, half-width ASCII, lower case; same length."""
    return HanziConv.toSimplified(half_width(text)).lower()


def is_english(text: str) -> bool:
    """A question written in English: Latin words and no Chinese character (Chinese-English mixes are Chinese)."""
    return not re.search(r"[\u3400-\u9fff]", text) and len(re.findall(r"[A-Za-z]", text)) >= 3


# Words of courtesy around a question (请问…谢谢, 同志 or 师傅 to the clerk, as older citizens write to the hall): they
# say nothing about which bundle is meant, but the classifier read them as greet or thank and a polite question fell
# back or was asked back (blind sets: the elderly style 86.7 % top-1, 76.7 % direct). The tokenizer leaves them out when the
# message says something else as well; a message of courtesy only (你好, 谢谢你) keeps them.
COURTESY = frozenset({"请问", "你好", "您好", "谢谢", "谢谢你", "谢谢您", "多谢", "感谢", "麻烦", "劳驾", "打扰",
                      "同志", "师傅", "hi", "hello", "please", "thanks", "thank"})
# what goes with a courtesy word right after it (谢谢 你, 麻烦 您 了, 打扰 一下, thank you)
_COURTESY_TAIL = frozenset({"你", "您", "了", "啦", "啊", "呀", "一下", "you"})
# Asking for someone else, or announcing a question (老板让我问下, 帮我妈问一下, 替我爷爷问问, 我想问一下): the frame
# before the question is left out too. A frame is the first words up to one of _ASK_VERBS, among them one of
# _FRAME_WORDS (someone made me ask) or only _PLAIN_WORDS (I would like to ask); its tail (一下) goes with it.
_ASK_VERBS = frozenset({"问", "问下", "问问", "问一问"})
_FRAME_WORDS = frozenset({"帮", "替", "让", "叫", "托", "代"})
_PLAIN_WORDS = frozenset({"我", "想", "就", "再", "请", "麻烦"})
_FRAME_REACH = 8  # words: a frame opens the message
_WORD = re.compile(r"[0-9A-Za-z\u3400-\u9fff]")


def _frame_end(words: list[str]) -> int:
    """How many words at the start are the frame of asking for someone (0: none)."""
    for index, word in enumerate(words[:_FRAME_REACH]):
        if word in _ASK_VERBS:
            before = set(words[:index])
            if before & _FRAME_WORDS or (before and before <= _PLAIN_WORDS):
                end = index + 1
                return end + 1 if end < len(words) and words[end] in {"一下", "下"} else end
            return 0
    return 0


def content_words(words: list[str]) -> list[int]:
    """The positions of the words that are neither courtesy nor the frame of a question asked for someone
    (normalised words, as the tokenizer has them); every position when fewer than two words would be left."""
    kept, after_courtesy = [], False
    for index in range(_frame_end(words), len(words)):
        word = words[index]
        if word in COURTESY or (after_courtesy and word in _COURTESY_TAIL):
            after_courtesy = True
            continue
        after_courtesy = False
        kept.append(index)
    if sum(1 for index in kept if _WORD.search(words[index])) < 2:
        return list(range(len(words)))
    return kept
