"""Chat text before Rasa sees it: PII masking, the slash guard, normalisation. Imports nothing from Rasa."""

from __future__ import annotations

import re

from hanziconv import HanziConv

from assistant.payloads import is_button_payload

MAX_CHARS = 500

_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# 18-digit 身份证号 (optionally spaced 6-8-4) and 15-digit old ones; not inside a longer number
_ID_NUMBER = re.compile(r"(?<![0-9])([1-9][0-9]{5})[ -]?([0-9]{8})[ -]?([0-9]{3})([0-9Xx])(?![0-9Xx])"
                        r"|(?<![0-9])([1-9][0-9]{5})([0-9]{6})([0-9]{3})(?![0-9])")
_MOBILE = re.compile(r"(?<![0-9])(?:\+?86[ -]?)?(1[3-9][0-9])[ -]?([0-9]{4})[ -]?([0-9]{4})(?![0-9])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")



def half_width(text: str) -> str:
    """Full-width ASCII (ＡＢＣ１２３／) as ordinary ASCII; one character for one."""
    return text.translate(_FULL_WIDTH)


def mask_pii(text: str) -> str:
    """ID card and mobile numbers with their middle digits hidden: 110105********002X, 138****8000."""
    digits = half_width(text) if re.search(r"[\uff10-\uff19]", text) else text

    def id_number(match: re.Match) -> str:
        if match.group(1):
            return f"{match.group(1)}{'*' * 8}{match.group(3)}{match.group(4)}"
        return f"{match.group(5)}{'*' * 6}{match.group(7)}"

    def mobile(match: re.Match) -> str:
        return f"{match.group(1)}****{match.group(3)}"

    return _MOBILE.sub(mobile, _ID_NUMBER.sub(id_number, digits))


def guard(text: object) -> str:
    """Typed text made safe for Rasa: masked, without control characters, never a forged `/intent`."""
    if not isinstance(text, str):
        return ""
    text = _CONTROL.sub(" ", text).strip()
    if text.startswith("/") and not is_button_payload(text):
        text = "／" + text[1:]  # a full-width slash: Rasa's RegexMessageHandler leaves it to NLU
    return mask_pii(text)


def normalize(text: str) -> str:
    """What the NLU tokenizer sees: simplified characters, half-width ASCII, lower case; same length."""
    return HanziConv.toSimplified(half_width(text)).lower()


def is_english(text: str) -> bool:
    """A question written in English: Latin words and no Chinese character (Chinese-English mixes are Chinese)."""
    return not re.search(r"[\u3400-\u9fff]", text) and len(re.findall(r"[A-Za-z]", text)) >= 3
