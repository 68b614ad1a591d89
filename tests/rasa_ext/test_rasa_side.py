"""Yishi's changes to Rasa's tracker store and action calls, checked against Rasa itself (in a child process)."""

from __future__ import annotations

import pytest

from yishi import lean


def without_timestamps(value):
    if isinstance(value, list):
        return [without_timestamps(v) for v in value]
    if isinstance(value, dict):
        return {k: without_timestamps(v) for k, v in value.items() if k != "timestamp"}
    return value


@pytest.fixture(scope="module")
def stores(rasa_side) -> dict:
    return rasa_side("tracker_store")


def test_yishi_tracker_store_stores_and_returns_what_rasas_does(stores):
    """Every event as Rasa's own store keeps it, except a bundle answer's: that one as its lean reference."""
    rasa, yishi = stores["SQLTrackerStore"], stores["WalSQLTrackerStore"]
    assert yishi["rows"] == rasa["rows"] == 27
    compacted = 0
    for key in ("latest", "full", "second"):
        assert len(yishi[key]) == len(rasa[key]), key
        for ours, theirs in zip(without_timestamps(yishi[key]), without_timestamps(rasa[key]), strict=True):
            if lean.is_lean((ours.get("data") or {}).get("custom")):
                assert ours == lean.compact(theirs, build=ours["data"]["custom"]["build"]) != theirs
                compacted += 1
            else:
                assert ours == theirs, key
    assert compacted >= 2
    assert [e["event"] for e in yishi["latest"]] == ["session_started", "action", "user", "slot", "bot", "action", "user"]
    assert len(yishi["full"]) == 16 and yishi["unknown"] is None is rasa["unknown"]


def test_yishi_tracker_store_is_in_wal_mode_with_pooled_connections(stores):
    yishi = stores["WalSQLTrackerStore"]
    assert yishi["journal"] == "wal" and yishi["busy_timeout"] == 5000
    # Rasa's own opens a new connection for every session; ours keeps a few open
    assert stores["SQLTrackerStore"]["pool"] == "NullPool" and yishi["pool"] == "QueuePool"


def test_action_calls_leave_earlier_checklists_out_and_nothing_else(rasa_side):
    calls = rasa_side("action_call")
    before, after = calls["before"], calls["after"]
    assert len(before) == len(after)
    for old, new in zip(before, after, strict=True):
        if old["event"] != "bot":
            assert new == old
            continue
        assert "checklist" in old["data"]["custom"] and "checklist" not in new["data"]["custom"]
        assert new["text"] == old["text"]
        assert new["data"]["custom"] == {"type": "bundle", "bundle": "gym"}
    # the tracker itself (what the tracker store and the channels get) keeps every checklist
    assert all("checklist" in data["custom"] for data in calls["tracker_keeps"])


def test_event_types_resolve_as_rasa_resolves_them(rasa_side):
    found = rasa_side("event_types")
    assert len(found["names"]) > 20 and found["after"] == found["before"]
    assert found["before"][-2:] == [None, "BotUttered"]  # the legacy "topic", an unknown name with a default
    assert found["events_after"] == found["events_before"] and len(found["events_before"]) > 10
