"""What each Rasa client is sent (issue 15): the reply contract's custom payloads only for a client that announces
it shows them; any other gets text, buttons and, with a checklist, a link to its printable page.

Rasa-free, so the channels (rasa_ext/channels.py) and the tests share it.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Text
from urllib.parse import quote, urlencode

from assistant.payloads import RICH_CONTRACT
from catalogue import markdown as md
from yishi import lean, settings

SHOWABLE = ("text", "buttons", "quick_replies", "image", "attachment", "elements")


def announced(metadata: Any) -> Optional[Dict[Text, Any]]:
    """The only metadata kept from a client: its announcement of the rich contract (else nothing is stored)."""
    rich = isinstance(metadata, dict) and all(metadata.get(key) == value for key, value in RICH_CONTRACT.items())
    return dict(RICH_CONTRACT) if rich else None


def checklist_url(custom: Dict[Text, Any]) -> str:
    """The printable checklist page for a bundle payload, with the answers given (absolute, YISHI_PUBLIC_URL)."""
    answers = lean.answers_of(custom.get("checklist") or {})
    query = f"?{urlencode(answers)}" if answers else ""
    return f"{settings.public_url()}/checklist/{quote(str(custom.get('bundle')))}{query}"


def for_plain_client(message: Dict[Text, Any]) -> Optional[Dict[Text, Any]]:
    """A reply without its custom payload, for a client that did not announce the rich contract: a checklist's
    text gets the link to its printable page; a reply left with nothing to show is not sent (None)."""
    custom = message.get("custom")
    if not isinstance(custom, dict):
        return message
    plain = {key: value for key, value in message.items() if key != "custom"}
    if custom.get("type") == "bundle" and custom.get("bundle"):
        link = f"[打开可打印的清单（可存到手机、可打印）]({checklist_url(custom)})"
        plain["text"] = md.blocks(plain.get("text"), link)
    return plain if any(plain.get(key) for key in SHOWABLE) else None
