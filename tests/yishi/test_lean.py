"""Bundle answers stored as references and shown again from the catalogue (yishi/lean.py)."""

from __future__ import annotations

import copy
import datetime as dt
import json

from actions import replies
from catalogue.checklist import checklist
from yishi import lean

TODAY = dt.date(2026, 11, 2)


def bot_event(reply: dict) -> dict:
    """A BotUttered event as Rasa stores it, from the reply the action sent."""
    return {"event": "bot", "timestamp": 1.0, "metadata": {}, "text": reply["text"],
            "data": {"elements": None, "quick_replies": None, "buttons": None, "attachment": None, "image": None,
                     "custom": reply["json_message"]}}


def test_a_bundle_answer_is_stored_small_and_shown_again_as_it_was(mini_records):
    sent = replies.bundle(checklist(mini_records, "shop", {"size": "small"}, TODAY))
    full = bot_event(sent)
    stored = lean.compact(full, build="2026-11-01T09:00:00")
    assert len(json.dumps(stored)) < 1024 < len(json.dumps(full))
    assert stored["data"]["custom"] == {"type": "bundle", "bundle": "shop", "answers": {"size": "small"},
                                        "digest": lean.digest(sent["json_message"]["checklist"]),
                                        "build": "2026-11-01T09:00:00", "lean": 1}
    text, payload = lean.expand(stored["data"]["custom"], mini_records, TODAY)
    assert text == sent["text"]
    assert payload == {**sent["json_message"], "changed": False}


def test_a_list_changed_since_is_shown_as_it_is_now_and_says_so(mini_records):
    stored = lean.compact(bot_event(replies.bundle(checklist(mini_records, "shop", {}, TODAY))))
    changed = copy.deepcopy(mini_records)
    changed["materials"]["lease"]["name"] = "房屋租赁合同"
    text, payload = lean.expand(stored["data"]["custom"], changed, TODAY)
    assert payload["changed"] and "房屋租赁合同" in text and text.endswith(lean.CHANGED)
    assert payload["checklist"] == checklist(changed, "shop", {}, TODAY)


def test_a_later_day_alone_is_no_change(mini_records):
    stored = lean.compact(bot_event(replies.bundle(checklist(mini_records, "shop", {}, TODAY))))
    assert lean.expand(stored["data"]["custom"], mini_records, TODAY + dt.timedelta(days=30))[1]["changed"] is False


def test_answers_the_bundle_no_longer_takes_or_a_bundle_gone(mini_records):
    custom = {"type": "bundle", "bundle": "shop", "answers": {"size": "enormous"}, "digest": "x", "lean": 1}
    text, payload = lean.expand(custom, mini_records, TODAY)
    assert payload["checklist"] == checklist(mini_records, "shop", {}, TODAY) and payload["changed"]
    assert lean.expand({**custom, "bundle": "gone"}, mini_records, TODAY) is None


def test_other_events_are_stored_as_they_are():
    question = {"event": "bot", "text": "面积多大？", "data": {"custom": {"type": "question", "bundle": "shop"}}}
    user = {"event": "user", "text": "开店", "parse_data": {}}
    assert lean.compact(question) == question and lean.compact(user) == user
    assert not lean.is_lean(question["data"]["custom"])
