"""When the classifier is unsure, when nothing fits, and when the citizen rejects the candidates."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from assistant.decision import decide

from . import conversation

Events = list[dict[str, Any]]


class ActionResolveUnsure(Action):
    """nlu_fallback: take a bundle named word for word, ask back between close candidates, or say nothing fits."""

    def name(self) -> str:
        return "action_resolve_unsure"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> Events:
        decision = decide(tracker.latest_message, await conversation.spotted(tracker), await conversation.support(tracker))
        if decision.kind == "bundle":
            return await conversation.present(dispatcher, tracker, decision.bundles[0], {})
        if decision.kind == "clarify":
            return await conversation.clarify(dispatcher, tracker, decision.bundles)
        return conversation.fallback(dispatcher)


class ActionOutOfScope(ActionResolveUnsure):
    """out_of_scope: the same decision, which ends in the honest fallback unless a bundle is named."""

    def name(self) -> str:
        return "action_out_of_scope"


class ActionNoneOfThese(Action):
    """都不是: no candidate fits."""

    def name(self) -> str:
        return "action_none_of_these"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> Events:
        return conversation.fallback(dispatcher, "none_of_these")
