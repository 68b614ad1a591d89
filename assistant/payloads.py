"""Button payloads, built and parsed: `/intent{"key":"value"}` for Yishi's own buttons only.

Rasa's RegexMessageHandler takes any text starting with `/` as an intent at confidence 1.0, so
only these payloads may reach it; everything else typed with a leading `/` is plain text.
"""

from __future__ import annotations

import json
import re

# A client announces it shows the reply contract's custom payloads (the checklist card, …) with this as the
# metadata of its messages; other clients get text, buttons and links (rasa_ext/channels.py).
RICH_CONTRACT = {"yishi_contract": "rich"}

BUTTON_INTENTS = ("choose_bundle", "answer_question", "browse", "none_of_these")
_PAYLOAD = re.compile(r"^/(" + "|".join(BUTTON_INTENTS) + r")(\{.*\})?$", re.S)
_PAYLOAD_KEYS = {"bundle", "question", "value", "family", "stage"}
_PAYLOAD_VALUE = re.compile(r"^[\w\u4e00-\u9fff]{1,40}$")


def payload(intent: str, **entities: str) -> str:
    """A button payload: /intent{"key":"value"}."""
    return f"/{intent}" + (json.dumps(entities, ensure_ascii=False, separators=(",", ":")) if entities else "")


def parse(text: str) -> tuple[str, dict[str, str]] | None:
    """(intent, entities) of one of Yishi's button payloads, else None."""
    match = _PAYLOAD.match(text)
    if not match:
        return None
    if match.group(2) is None:
        return match.group(1), {}
    try:
        entities = json.loads(match.group(2))
    except ValueError:
        return None
    if (isinstance(entities, dict) and set(entities) <= _PAYLOAD_KEYS
            and all(isinstance(v, str) and _PAYLOAD_VALUE.match(v) for v in entities.values())):
        return match.group(1), entities
    return None


def is_button_payload(text: str) -> bool:
    """True for the payloads Yishi's own buttons send: a known intent with plain-word values."""
    return parse(text) is not None
