"""What several actions share: the tracker's context and presenting a bundle with its next question."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from catalogue import browse, retrieval, workdays
from catalogue.checklist import checklist
from chattext import is_button_payload, is_english, normalize

from . import catalogue_access, replies


def entity(tracker: Tracker, name: str) -> str | None:
    """The first value of an entity in the latest message (button payloads carry them)."""
    value = next(tracker.get_latest_entity_values(name), None)
    return value if isinstance(value, str) else None


def answers(tracker: Tracker) -> dict[str, str]:
    value = tracker.get_slot("answers")
    return dict(value) if isinstance(value, dict) else {}


async def spotted(tracker: Tracker) -> list[str]:
    """Bundles named word for word in the latest message."""
    text = normalize(tracker.latest_message.get("text") or "")
    return await catalogue_access.call(tracker.sender_id, browse.spot, text)


async def support(tracker: Tracker) -> dict[str, float] | None:
    """Bundles the latest message shares words with (catalogue.retrieval), or None for text without Chinese."""
    text = normalize(tracker.latest_message.get("text") or "")
    return await catalogue_access.call(tracker.sender_id, retrieval.support, text)


def asked_in_english(tracker: Tracker) -> bool:
    """The citizen's own words (the latest typed message, not a button's payload) are English."""
    typed = next((e.get("text") or "" for e in reversed(tracker.events) if e.get("event") == "user"
                  and not is_button_payload(e.get("text") or "")), "")
    return is_english(typed)


async def bundle_names(tracker: Tracker, slugs: list[str]) -> list[tuple[str, str]]:
    def names(records: dict, wanted: list[str]) -> list[tuple[str, str]]:
        return [(s, records["bundles"][s]["name"]) for s in wanted if s in records["bundles"]]

    return await catalogue_access.call(tracker.sender_id, names, slugs)


async def present(dispatcher: CollectingDispatcher, tracker: Tracker, slug: str,
                  given: dict[str, str]) -> list[dict[str, Any]]:
    """Send the checklist for the answers so far, then the next question that can still change it."""
    result = await catalogue_access.call(tracker.sender_id, checklist, slug, given, workdays.today())
    if asked_in_english(tracker):
        dispatcher.utter_message(**replies.english_intro(result))
    dispatcher.utter_message(**replies.bundle(result))
    pending = next((q["key"] for q in result["questions"] if q["relevant"]), None)
    if pending:
        dispatcher.utter_message(**replies.question(result, pending))
    elif (follow := replies.next_steps(result)) is not None:  # the list is complete: what people need next
        dispatcher.utter_message(**follow)
    return [SlotSet("bundle", slug), SlotSet("answers", given), SlotSet("pending_question", pending)]


async def ask_again(dispatcher: CollectingDispatcher, tracker: Tracker, slug: str) -> list[dict[str, Any]]:
    """Repeat the pending question (after an answer it does not offer)."""
    result = await catalogue_access.call(tracker.sender_id, checklist, slug, answers(tracker))
    pending = next((q["key"] for q in result["questions"] if q["relevant"]), None)
    if pending:
        dispatcher.utter_message(**replies.question(result, pending))
    return [SlotSet("pending_question", pending)]


async def clarify(dispatcher: CollectingDispatcher, tracker: Tracker, slugs: list[str]) -> list[dict[str, Any]]:
    dispatcher.utter_message(**replies.clarify(await bundle_names(tracker, slugs)))
    return [SlotSet("pending_question", None)]


def fallback(dispatcher: CollectingDispatcher, reason: str = "not_covered") -> list[dict[str, Any]]:
    dispatcher.utter_message(**replies.fallback(reason))
    return [SlotSet("pending_question", None)]
