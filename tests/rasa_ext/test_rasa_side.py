"""Yishi's changes to Rasa's tracker store and action calls, checked against Rasa itself (in a child process)."""

from __future__ import annotations

import concurrent.futures
import json
import tarfile

import pytest

from yishi import lean, settings


def without_timestamps(value):
    if isinstance(value, list):
        return [without_timestamps(v) for v in value]
    if isinstance(value, dict):
        return {k: without_timestamps(v) for k, v in value.items() if k != "timestamp"}
    return value


def same_as_rasas(ours: dict, theirs: dict) -> bool:
    """An event as Yishi's store returns it is the one Rasa's returns (a bundle answer: as its lean reference)."""
    ours, theirs = without_timestamps(ours), without_timestamps(theirs)
    if lean.is_lean((ours.get("data") or {}).get("custom")):
        return ours == lean.compact(theirs, build=ours["data"]["custom"]["build"]) != theirs
    return ours == theirs


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
        for ours, theirs in zip(yishi[key], rasa[key], strict=True):
            assert same_as_rasas(ours, theirs), key
            compacted += lean.is_lean((ours.get("data") or {}).get("custom"))
    assert compacted >= 2
    assert [e["event"] for e in yishi["latest"]] == ["session_started", "action", "user", "slot", "bot", "action", "user"]
    assert len(yishi["full"]) == 16 and yishi["unknown"] is None is rasa["unknown"]


def test_yishi_tracker_store_is_in_wal_mode_with_pooled_connections(stores):
    yishi = stores["WalSQLTrackerStore"]
    assert yishi["journal"] == "wal" and yishi["busy_timeout"] == 5000
    # Rasa's own opens a new connection for every session; ours keeps a few open
    assert stores["SQLTrackerStore"]["pool"] == "NullPool" and yishi["pool"] == "QueuePool"


def test_a_windowed_tracker_has_the_slots_of_the_whole_session_after_resets_and_a_new_session(rasa_side):
    """The state a window starts from: each slot's latest value since the latest AllSlotsReset or session start,
    never a value from before it (重新开始 three turns back must not bring the old bundle back)."""
    found = rasa_side("window_state")
    assert len(found["rasa"]) == 13
    bundles = [slots["bundle"] for slots in found["rasa"]]
    assert bundles[2:5] == ["gym", None, None] and bundles[-4:] == [None, "retirement", "retirement", "retirement"]
    for window in ("1", "2"):
        assert found[window] == found["rasa"], window
        # every read begins with the session's start, and the later ones are windows: shorter than the session
        assert set(found["heads"][window]) == {"session_started"}, window
        shorter = [ours < theirs for ours, theirs in zip(found["lengths"][window], found["lengths"]["rasa"], strict=True)]
        assert all(shorter[4:8]) and all(shorter[-3:]), window  # the turns after each reset


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


def test_the_speedups_change_no_answer_of_the_trained_model(rasa_side):
    """rasa_ext.speedups (DIET's concrete function, the graph run in order, RulePolicy's rule index, the action
    response's events checked by their own branch of the schema, no copies for debug logs that are off, sparse features
    joined without scipy's hstack, Domain.is_empty, count features made
    without scikit-learn's matrices, one kept session for the action calls) against Rasa
    as it ships, the two in child processes side by side: the same confidences, replies and stored events."""
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        plain, patched = pool.map(lambda mode: rasa_side("model_answers", mode), ["plain", "patched"])
    assert patched["installed"]["concrete_function"] and patched["installed"]["graph_orders"] >= 2
    assert patched["installed"]["rule_indexes"] >= 1
    assert patched["installed"]["debug_copies"] == [False, True]  # copied for debug logs only when they are on
    # every parse joined its two count featurizers' features as COO matrices here, none through scipy's hstack: once
    # for each DIET of the pipeline (bot/config.yml averages two)
    diets = patched["installed"]["diets"]
    assert diets >= 1
    assert patched["installed"]["sparse_features_joined"] == {"coo": 2 * (300 + 60) * diets}
    assert patched["is_empty"] == plain["is_empty"] == [False, True]
    # each parse's count features were all made here (two featurizers; each attribute it has a vectorizer for, fitted or
    # not: an unfitted one only ever gets empty attributes), none by Rasa's code
    assert set(patched["installed"]["count_features"]) == {"here"}
    assert patched["installed"]["count_features"]["here"] >= 2 * 2 * (300 + 60)
    counts = patched["count_features"]  # the count featurizers' matrices, made here and by Rasa, for the same texts
    assert counts["featurizers"] == 2 and counts["compared"] > 1200 and counts["differing"] == 0
    # every action call of the run went through one kept session (one endpoint, one event loop)
    assert list(patched["installed"]["action_sessions"].values()) == [1]
    assert len(plain["parses"]) == 300 and len(plain["replies"]) == 60 and len(plain["events"]) > 400
    assert patched["parses"] == plain["parses"]
    assert patched["replies"] == plain["replies"]
    assert patched["events"] == plain["events"]
    checked = patched["action_results"]  # the whole response schema and the quicker check agree
    assert checked["responses"] >= 50 and checked["all_valid"] and checked["invalid"] > 1000
    assert checked["differing"] == 0
    keys = patched["rule_keys"]
    assert keys["states"] >= 100 and keys["rules"] > 100 and keys["checked"] > 5000
    assert keys["differing"] == 0


@pytest.fixture(scope="module")
def long(rasa_side) -> dict:
    """A 60-message conversation through the trained model and the real action server, turn by turn into Rasa's
    SQLTrackerStore, Yishi's with its default window and Yishi's with a one-message window (rasa_side.py)."""
    return rasa_side("long_conversation")


WINDOWED = ("default", "one")


def test_a_long_conversation_gets_every_reply_with_a_windowed_tracker_as_with_the_whole_session(long):
    assert long["windows"] == {"default": settings.integer("YISHI_TRACKER_WINDOW"), "one": 1}
    assert len(long["sent"]) == 60 and sum(text.startswith("/") for text in long["sent"]) >= 20
    rasa = long["replies"]["rasa"]
    assert all(rasa) and sum(any("buttons" in m for m in reply) for reply in rasa) >= 30
    for name in WINDOWED:
        for number, (ours, theirs) in enumerate(zip(long["replies"][name], rasa, strict=True)):
            assert ours == theirs, (name, number, long["sent"][number])
    # the English introduction after four button presses: the actions found the English message before them
    assert long["sent"][10] == "I want to open a gym" and all(text.startswith("/") for text in long["sent"][11:15])
    assert rasa[14][0]["text"].startswith("Opening a gym")
    assert long["sent"][36] == "how do I open a restaurant" and all(text.startswith("/") for text in long["sent"][37:41])
    assert rasa[40][0]["text"].startswith("Opening a restaurant")


def test_a_windowed_turn_stores_every_event_once_as_rasas_store_does(long):
    """Count, order, columns and contents (every action's policy and confidence among them) of the stored events."""
    rasa = long["rows"]["rasa"]
    assert len(rasa) > 500 and sum(row[0] == "session_started" for row in rasa) == 2
    for name in WINDOWED:
        rows = long["rows"][name]
        assert len(rows) == len(rasa), name
        for number, (ours, theirs) in enumerate(zip(rows, rasa, strict=True)):
            assert ours[:3] == theirs[:3] and same_as_rasas(json.loads(ours[3]), json.loads(theirs[3])), (name, number)


def test_turns_read_windows_and_every_other_read_the_whole_history(long):
    for name in WINDOWED:
        window, turns = long["windows"][name], long["turns"][name]
        assert len(turns) == 59  # the first message starts the conversation: nothing to read
        whole = [number for number, (built, stored) in enumerate(turns, start=1) if built >= stored]
        # only the first messages of each session and the message whose session expired (31) read it whole
        assert 31 in whole and set(whole) <= {*range(1, window + 1), 31, *range(32, 32 + window + 1)}, (name, turns)
        reads, rasa = long["reads"][name], long["reads"]["rasa"]
        assert len(reads["full"]["events"]) == len(rasa["full"]["events"]) == len(long["rows"]["rasa"])
        assert all(same_as_rasas(o, t) for o, t in zip(reads["full"]["events"], rasa["full"]["events"], strict=True))
        others = {key: value for key, value in reads["full"].items() if key not in ("events", "latest_event_time")}
        assert others == {key: value for key, value in rasa["full"].items() if key not in ("events", "latest_event_time")}
        assert len(reads["session"]) == len(rasa["session"]) > 250
        assert all(same_as_rasas(o, t) for o, t in zip(reads["session"], rasa["session"], strict=True))
        assert reads["session_slots"] == rasa["session_slots"] and rasa["session_slots"]["bundle"]
    one = long["turns"]["one"]
    assert max(built for built, _ in one[-20:]) < 70 < min(stored for _, stored in one[-20:])


def test_every_rule_of_the_trained_model_fits_in_the_newest_message_of_any_window():
    """RulePolicy predicts from the states since the latest message (a window starts at the action before its
    oldest message, and the turn's own message comes after): rules that reach back further, conversation_start
    rules, loops and rule-only slots would need a longer window (rasa_ext/tracker_store.py)."""
    with tarfile.open(settings.path("YISHI_MODEL")) as model:
        lookup = json.load(model.extractfile("components/train_RulePolicy0/rule_policy.json"))["lookup"]
    rules = [json.loads(key) for key in lookup["rules"]]
    assert len(rules) > 100
    for states in rules:
        assert all(state.get("prev_action") for state in states), states  # no conversation start
        assert states[0]["prev_action"] == {"action_name": "action_listen"} and "user" in states[0], states
        assert all(s["prev_action"] != {"action_name": "action_listen"} for s in states[1:]), states
    assert not lookup["rules_for_loop_unhappy_path"] and not lookup["rule_only_slots"] and not lookup["rule_only_loops"]
    assert settings.integer("YISHI_TRACKER_WINDOW") >= 1


def test_the_averaged_diets_train_at_the_same_time_into_the_same_model_as_one_after_another(rasa_side):
    """rasa_ext.ensemble trains each member but the first in a spawned process of its own: the model is the same as
    training the members one after another in one process (every parse, to six places); each member is a folder of the
    component's resource; a config naming a seed the model lacks fails loading with a message that says so."""
    found = rasa_side("ensemble_training")
    assert found["parallel"] == found["sequential"]
    assert all(ranking and len(ranking) == 3 for ranking in found["parallel"])
    for name in ("parallel", "sequential"):
        assert found[f"{name}_members"] == ["diet_seed_7", "diet_seed_8"]
    assert found["missing_seed"].startswith("InvalidConfigException") and "seed 9" in found["missing_seed"]
