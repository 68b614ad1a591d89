"""Showing a bundle, answering its questions and yes/no, on the fixture catalogue."""

from __future__ import annotations

from actions.bundle import ActionAnswerQuestion, ActionShowBundle, ActionYesNo
from catalogue.checklist import NOTICE


def test_bundle_intent_gives_the_checklist_then_the_first_question(tracker, run, slots):
    messages, events = run(ActionShowBundle(), tracker("我想开个铺子", intent="bundle_shop"))
    card, question = messages
    assert card["custom"]["type"] == "bundle" and card["custom"]["bundle"] == "shop"
    assert card["custom"]["checklist"]["before"]["materials"] == 11
    assert card["text"].startswith("**【我要开小店】**") and card["text"].endswith(NOTICE)
    assert question["custom"] == {"type": "question", "bundle": "shop", "question": "size",
                                  "options": [{"value": "small", "label": "小"}, {"value": "large", "label": "大"}]}
    assert [b["payload"] for b in question["buttons"]] == [
        '/answer_question{"question":"size","value":"small"}', '/answer_question{"question":"size","value":"large"}']
    assert slots(events) == {"bundle": "shop", "answers": {}, "pending_question": "size"}


def test_bundle_button(tracker, run, slots):
    messages, events = run(ActionShowBundle(), tracker(intent="choose_bundle", entities={"bundle": "baby"}))
    assert [m["custom"].get("type") for m in messages] == ["bundle", None]  # no questions: next steps follow
    assert slots(events)["bundle"] == "baby"


def test_unknown_bundle_button_falls_back(tracker, run):
    messages, _ = run(ActionShowBundle(), tracker(intent="choose_bundle", entities={"bundle": "nope"}))
    assert [m["custom"] for m in messages] == [{"type": "fallback"}]


def test_two_life_events_in_one_message_are_offered_both(tracker, run):
    messages, _ = run(ActionShowBundle(), tracker("想开个铺子，还要给娃儿登记", intent="bundle_shop"))
    assert messages[0]["custom"] == {"type": "clarify", "options": [
        {"bundle": "shop", "name": "我要开小店"}, {"bundle": "baby", "name": "宝宝登记一件事"}]}
    assert [b["title"] for b in messages[0]["buttons"]] == ["我要开小店", "宝宝登记一件事", "都不是"]


def test_answer_refines_the_list_and_asks_the_next_question(tracker, run, slots):
    context = {"bundle": "shop", "answers": {}, "pending_question": "size"}
    messages, events = run(ActionAnswerQuestion(), tracker(intent="answer_question", slots=context,
                                                          entities={"question": "size", "value": "small"}))
    card, question = messages
    assert [i["id"] for i in card["custom"]["checklist"]["items"]] == ["register"]
    assert question["custom"]["question"] == "agent"
    assert slots(events) == {"bundle": "shop", "answers": {"size": "small"}, "pending_question": "agent"}


def test_last_answer_leaves_no_question(tracker, run, slots):
    context = {"bundle": "shop", "answers": {"size": "small"}, "pending_question": "agent"}
    messages, events = run(ActionAnswerQuestion(), tracker(intent="answer_question", slots=context,
                                                          entities={"question": "agent", "value": "no"}))
    assert [m["custom"]["type"] for m in messages] == ["bundle"]
    assert slots(events)["pending_question"] is None


def test_an_answer_the_question_does_not_offer_asks_again(tracker, run, slots):
    context = {"bundle": "shop", "answers": {}, "pending_question": "size"}
    messages, events = run(ActionAnswerQuestion(), tracker(intent="answer_question", slots=context,
                                                          entities={"question": "size", "value": "huge"}))
    assert messages[0]["response"] == "utter_pick_an_option"
    assert messages[1]["custom"]["question"] == "size"
    assert "answers" not in slots(events)


def test_yes_answers_a_pending_yes_no_question(tracker, run, slots):
    context = {"bundle": "shop", "answers": {"size": "small"}, "pending_question": "agent"}
    messages, events = run(ActionYesNo(), tracker("是的", intent="affirm", slots=context))
    materials = [m["id"] for m in messages[0]["custom"]["checklist"]["materials"]]
    assert "letter" in materials
    assert slots(events)["answers"] == {"size": "small", "agent": "yes"}


def test_yes_with_nothing_pending_asks_what_to_do(tracker, run):
    messages, events = run(ActionYesNo(), tracker("好的", intent="affirm"))
    assert [m["response"] for m in messages] == ["utter_no_context"] and events == []


def test_a_button_keeps_the_language_the_citizen_typed_in(tracker, run):
    """A button's payload (/choose_bundle{"bundle":"shop"}) is Latin letters, but the citizen did not write English."""
    payload = '/choose_bundle{"bundle":"shop"}'
    chinese, _ = run(ActionShowBundle(), tracker(payload, intent="choose_bundle", entities={"bundle": "shop"},
                                                 earlier=("想开个铺子",)))
    assert chinese[0]["text"].startswith("**【我要开小店】**")
    english, _ = run(ActionShowBundle(), tracker(payload, intent="choose_bundle", entities={"bundle": "shop"},
                                                 earlier=("I want to open a shop",)))
    assert english[0]["text"].startswith("Opening a small shop.")


def test_a_question_in_english_gets_the_english_title_and_summary_then_the_chinese_checklist(tracker, run):
    messages, _ = run(ActionShowBundle(), tracker("I want to open a shop", intent="bundle_shop"))
    assert messages[0]["text"].startswith("Opening a small shop. Open a shop in one go.\n \nThe checklist below is in Chinese")
    assert messages[1]["custom"]["type"] == "bundle" and messages[1]["text"].startswith("**【我要开小店】**")
    chinese, _ = run(ActionShowBundle(), tracker("我想开个shop", intent="bundle_shop"))
    assert chinese[0]["custom"]["type"] == "bundle"  # a Chinese-English mix is answered in Chinese


def test_a_complete_checklist_is_followed_by_what_people_need_next_as_buttons(tracker, run):
    messages, _ = run(ActionShowBundle(), tracker("宝宝上户口", intent="bundle_baby"))  # baby asks nothing
    assert messages[0]["custom"]["type"] == "bundle"
    assert messages[1]["text"].startswith("办完这件事，很多人接着还要办")
    assert messages[1]["buttons"] == [{"title": "我要开小店", "payload": '/choose_bundle{"bundle":"shop"}'}]
    assert not messages[1]["custom"]  # buttons only: never a checklist of its own
    shop, _ = run(ActionShowBundle(), tracker("开小店", intent="bundle_shop"))
    assert shop[1]["custom"]["type"] == "question"  # while a question is open, no next steps
