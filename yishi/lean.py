"""Lean bundle answers in the tracker store (issue 13).

A bundle answer goes to the citizen whole (the `bundle` payload with its full `checklist`, and the checklist
as text), but Rasa reads every stored event of a conversation on every turn, and the checklist is ~20 KB.
So the tracker store keeps a reference instead: the bundle, the answers given, a digest of the list as
it was shown and the catalogue build it came from. Whoever shows a stored conversation again (the web
app's history) expands the reference from the catalogue as it is now, and says so when the list changed.

The messages a channel sends while a turn runs come from the events in memory, before they are stored,
so the REST and socket.io replies are untouched by this.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from catalogue import markdown, report
from catalogue.checklist import BadAnswer, checklist

LEAN = "lean"  # the marker in a stored payload
CHANGED = "（这份清单在您上次查看后已按最新办事指南更新。）"


def digest(result: dict[str, Any]) -> str:
    """What the citizen was shown, in 16 hex digits: the list without its date-dependent finish day."""
    shown = {key: value for key, value in result.items() if key != "finish"}
    return hashlib.sha256(json.dumps(shown, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]


def answers_of(result: dict[str, Any]) -> dict[str, str]:
    return {q["key"]: q["answer"] for q in result.get("questions") or [] if q.get("answer") is not None}


def compact(event: dict[str, Any], build: str | None = None) -> dict[str, Any]:
    """A stored bot event with a full bundle answer, made a reference; any other event unchanged."""
    data = event.get("data") or {}
    custom = data.get("custom")
    if event.get("event") != "bot" or not isinstance(custom, dict) or custom.get("type") != "bundle" \
            or not isinstance(custom.get("checklist"), dict):
        return event
    result = custom["checklist"]
    reference = {"type": "bundle", "bundle": custom.get("bundle"), "answers": answers_of(result),
                 "digest": digest(result), "build": build, LEAN: 1}
    return {**event, "text": f"【{result.get('name', '')}】办事清单", "data": {**data, "custom": reference}}


def is_lean(custom: Any) -> bool:
    return isinstance(custom, dict) and custom.get(LEAN) == 1 and custom.get("type") == "bundle"


def expand(custom: dict[str, Any], records: dict, today: dt.date | None = None) -> tuple[str, dict[str, Any]] | None:
    """(text, payload) of a stored reference as the catalogue has the list now; None when the bundle is gone.
    The text ends with a note when the list is no longer the one the citizen was shown."""
    slug = custom.get("bundle")
    if slug not in records["bundles"]:
        return None
    answers = custom.get("answers") if isinstance(custom.get("answers"), dict) else {}
    try:
        result = checklist(records, slug, answers, today)
    except BadAnswer:  # an answer the bundle no longer asks about, or an option it no longer offers
        result = checklist(records, slug, {}, today)
    changed = digest(result) != custom.get("digest")
    text = markdown.blocks(report.checklist_text(result), CHANGED if changed else None)
    return text, {"type": "bundle", "bundle": slug, "checklist": result, "changed": changed}
