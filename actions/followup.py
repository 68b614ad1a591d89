"""Follow-up questions about the bundle in context: materials, time, place, online, fees, 代办 …"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from catalogue import workdays
from catalogue.checklist import UnknownBundle, checklist

from . import catalogue_access, conversation, replies
from .topics import TOPICS


class ActionFollowUp(Action):
    """Answers an ask_* intent from the checklist of the bundle in slot `bundle` (or one named in the text)."""

    def name(self) -> str:
        return "action_follow_up"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        topic = TOPICS.get(tracker.latest_message["intent"].get("name"))
        named = await conversation.spotted(tracker)
        slug = named[0] if len(named) == 1 else tracker.get_slot("bundle")
        if topic is None or not slug:
            dispatcher.utter_message(response="utter_no_context", buttons=replies.browse_buttons())
            return []
        given = conversation.answers(tracker) if slug == tracker.get_slot("bundle") else {}
        try:
            result = await catalogue_access.call(tracker.sender_id, checklist, slug, given, workdays.today())
        except UnknownBundle:
            return conversation.fallback(dispatcher)
        dispatcher.utter_message(**replies.with_notice(topic(result)))
        return [SlotSet("bundle", slug), SlotSet("answers", given)]
