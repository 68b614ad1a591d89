"""Checks that need Rasa itself, run in a child process (pytest's own process never imports rasa).

Usage: python -m tests.rasa_ext.rasa_side <check> [argument]; prints one JSON result.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_ext.tracker_store import WalSQLTrackerStore

CHECKLIST = {"slug": "gym", "materials": [{"id": f"m{i}", "name": "身份证"} for i in range(50)]}


def _session(tracker: DialogueStateTracker, texts: list[str]) -> None:
    for event in [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]:
        tracker.update(event)
    for text in texts:
        tracker.update(UserUttered(text, {"name": "bundle_gym", "confidence": 0.9}))
        tracker.update(SlotSet("bundle", "gym"))
        tracker.update(BotUttered(f"回答：{text}", {"custom": {"type": "bundle", "bundle": "gym", "checklist": CHECKLIST}}))
        tracker.update(ActionExecuted("action_listen"))


async def _store_story(store: SQLTrackerStore) -> dict:
    """Two conversations, the first over two sessions, saved turn by turn as Rasa does."""
    first = DialogueStateTracker("first", Domain.empty().slots)
    _session(first, ["我要开健身房"])
    await store.save(first)
    _session(first, ["要多久"])
    await store.save(first)
    latest = await store.retrieve("first")
    latest.update(UserUttered("谢谢"))
    await store.save(latest)
    second = DialogueStateTracker("second", Domain.empty().slots)
    _session(second, ["想开个洗车铺子", "在哪里办"])
    await store.save(second)
    return {
        "latest": [e.as_dict() for e in (await store.retrieve("first")).events],
        "full": [e.as_dict() for e in (await store.retrieve_full_tracker("first")).events],
        "second": [e.as_dict() for e in (await store.retrieve("second")).events],
        "unknown": await store.retrieve("nobody"),
    }


def tracker_store() -> dict:
    """The same story through Rasa's SQLTrackerStore and Yishi's: what each stores and returns."""
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for cls in (SQLTrackerStore, WalSQLTrackerStore):
            store = cls(domain=Domain.empty(), dialect="sqlite", db=str(Path(folder) / f"{cls.__name__}.db"))
            results[cls.__name__] = asyncio.run(_store_story(store))
            with store.engine.connect() as connection:
                results[cls.__name__]["rows"] = connection.exec_driver_sql("select count(*) from events").scalar()
                results[cls.__name__]["journal"] = connection.exec_driver_sql("pragma journal_mode").scalar()
                results[cls.__name__]["busy_timeout"] = connection.exec_driver_sql("pragma busy_timeout").scalar()
            results[cls.__name__]["pool"] = type(store.engine.pool).__name__
    return results


def action_call() -> dict:
    """What the action server receives for a conversation with two earlier bundle answers."""
    from rasa.core.actions.action import RemoteAction
    from rasa.utils.endpoints import EndpointConfig

    from rasa_ext import speedups

    tracker = DialogueStateTracker("someone", Domain.empty().slots)
    _session(tracker, ["我要开健身房", "想开个洗车铺子"])
    action = RemoteAction("action_follow_up", EndpointConfig("http://127.0.0.1:1"))
    before = action._action_call_format(tracker, Domain.empty())
    speedups.install()
    after = action._action_call_format(tracker, Domain.empty())
    return {"before": before["tracker"]["events"], "after": after["tracker"]["events"],
            "tracker_keeps": [e.data for e in tracker.events if isinstance(e, BotUttered)]}


def event_types() -> dict:
    """Event.resolve_by_type for every event type name, an unknown one and the legacy "topic", as Rasa
    answers and as with the speedup installed; and a conversation deserialised both ways."""
    from rasa.shared.core.events import Event, deserialise_events
    from rasa.shared.utils.common import all_subclasses

    from rasa_ext import speedups

    names = sorted({cls.type_name for cls in all_subclasses(Event)}) + ["topic", "no_such_event"]

    def answers() -> list:
        return [getattr(Event.resolve_by_type(n, default=BotUttered), "__name__", None) for n in names]

    tracker = DialogueStateTracker("someone", Domain.empty().slots)
    _session(tracker, ["我要开健身房", "想开个洗车铺子"])
    stored = [e.as_dict() for e in tracker.events]
    before, events_before = answers(), [e.as_dict() for e in deserialise_events(stored)]
    speedups.install()
    after, events_after = answers(), [e.as_dict() for e in deserialise_events(stored)]
    return {"names": names, "before": before, "after": after, "events_before": events_before,
            "events_after": events_after}


def nlu_examples(path: str) -> list:
    """The (intent, text) pairs Rasa's own YAML reader finds in an NLU file."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    data = RasaYAMLReader().read(path)
    return sorted([m.get("intent"), m.get("text")] for m in data.training_examples)


CHECKS = {"tracker_store": tracker_store, "action_call": action_call, "event_types": event_types,
          "nlu_examples": nlu_examples}

if __name__ == "__main__":
    print(json.dumps(CHECKS[sys.argv[1]](*sys.argv[2:]), ensure_ascii=False))
