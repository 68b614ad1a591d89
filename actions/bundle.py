"""Answering with a bundle, and refining it with the answers to its situational questions."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from assistant.decision import decide
from catalogue.checklist import BadAnswer, UnknownBundle, check_answers

from . import catalogue_access, conversation

Events = list[dict[str, Any]]


class ActionShowBundle(Action):
    """A bundle intent, or a click on a bundle button: the checklist (needs slot `bundle`)."""

    def name(self) -> str:
        return "action_show_bundle"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> Events:
        if tracker.latest_message["intent"].get("name") == "choose_bundle":
            slugs = [s for s in [conversation.entity(tracker, "bundle")] if s]
        else:
            decision = decide(tracker.latest_message, await conversation.spotted(tracker), await conversation.support(tracker))
            if decision.kind == "clarify":
                return await conversation.clarify(dispatcher, tracker, decision.bundles)
            slugs = decision.bundles
        if not slugs:
            return conversation.fallback(dispatcher)
        try:
            return await conversation.present(dispatcher, tracker, slugs[0], {})
        except UnknownBundle:
            return conversation.fallback(dispatcher)


class ActionAnswerQuestion(Action):
    """A click on a situational answer: the refined checklist and the next question."""

    def name(self) -> str:
        return "action_answer_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> Events:
        key, value = conversation.entity(tracker, "question"), conversation.entity(tracker, "value")
        return await answer(dispatcher, tracker, key, value)


class ActionYesNo(Action):
    """是/不是 typed as an answer to the pending yes/no question."""

    def name(self) -> str:
        return "action_yes_no"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> Events:
        value = "yes" if tracker.latest_message["intent"].get("name") == "affirm" else "no"
        return await answer(dispatcher, tracker, tracker.get_slot("pending_question"), value)


async def answer(dispatcher: CollectingDispatcher, tracker: Tracker, key: str | None, value: str | None) -> Events:
    slug = tracker.get_slot("bundle")
    if not slug or not key or value is None:
        dispatcher.utter_message(response="utter_no_context")
        return []
    given = conversation.answers(tracker) | {key: value}
    try:
        await catalogue_access.call(tracker.sender_id, check_answers, slug, given)
    except (BadAnswer, UnknownBundle):
        dispatcher.utter_message(response="utter_pick_an_option")
        return await conversation.ask_again(dispatcher, tracker, slug)
    return await conversation.present(dispatcher, tracker, slug, given)

