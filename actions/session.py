"""Starting over."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import AllSlotsReset
from rasa_sdk.executor import CollectingDispatcher

from . import replies


class ActionStartOver(Action):
    """重新开始: forget the bundle and the answers; the transcript stays for staff review."""

    def name(self) -> str:
        return "action_start_over"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_start_over", buttons=replies.browse_buttons())
        return [AllSlotsReset()]
