"""Actions run against the tiny fixture catalogue, built into a temporary SQLite file."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import catalogue_access


@pytest.fixture(autouse=True)
def catalogue(mini_db):
    """Point the actions at the fixture catalogue (mini_db sets YISHI_CATALOGUE_DB)."""
    catalogue_access.live.cache_clear()
    yield mini_db
    catalogue_access.live.cache_clear()


def _tracker(text: str = "", intent: str = "nlu_fallback", ranking: list[tuple[str, float]] | None = None,
            entities: dict[str, str] | None = None, slots: dict[str, Any] | None = None,
            sender: str = "test-user", earlier: tuple[str, ...] = ()) -> Tracker:
    """A tracker whose latest message is text (parsed as intent/ranking/entities), after the user texts `earlier`."""
    ranking = ranking or [(intent, 0.9)]
    events = [{"event": "user", "text": typed} for typed in (*earlier, text)]
    return Tracker.from_dict({
        "sender_id": sender,
        "slots": {"bundle": None, "answers": None, "pending_question": None} | (slots or {}),
        "latest_message": {
            "text": text,
            "intent": {"name": intent, "confidence": ranking[0][1]},
            "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
            "entities": [{"entity": k, "value": v} for k, v in (entities or {}).items()],
        },
        "events": events, "paused": False, "followup_action": None, "active_loop": {}, "latest_action_name": None,
    })


def _run(action, tracker_: Tracker) -> tuple[list[dict], list[dict]]:
    """Run an action; return (messages sent, events)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker_, {}))
    return dispatcher.messages, events


def _slots(events: list[dict]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


@pytest.fixture(name="tracker")
def tracker_fixture():
    """tracker(…): see _tracker."""
    return _tracker


@pytest.fixture(name="run")
def run_fixture():
    """run(…): see _run."""
    return _run


@pytest.fixture(name="slots")
def slots_fixture():
    """slots(…): see _slots."""
    return _slots
