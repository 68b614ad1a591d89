"""REST and socket.io input channels that guard every message before Rasa processes or logs it.

Guarding masks 身份证号 and mobile numbers (nothing unmasked reaches the tracker store or a log),
drops control characters, and turns a typed `/intent{...}` into plain text: only the payloads of
Yishi's own buttons reach Rasa's RegexMessageHandler.
"""

from __future__ import annotations

import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint
from sanic.request import Request

from chattext import guard

MAX_SENDER_LENGTH = 64


def _body(request: Request) -> Dict[Text, Any]:
    body = request.json
    return body if isinstance(body, dict) else {}


class GuardedRestInput(RestInput):
    """Rasa's REST channel (/webhooks/rest/webhook) with guarded text and no shared `default` sender."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    async def _extract_sender(self, request: Request) -> Optional[Text]:
        sender = _body(request).get("sender")
        if isinstance(sender, str) and 0 < len(sender) <= MAX_SENDER_LENGTH:
            return sender
        return f"anonymous-{uuid.uuid4().hex}"  # never Rasa's shared "default" conversation

    def _extract_message(self, request: Request) -> Optional[Text]:
        return guard(_body(request).get("message"))

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        return None  # client-supplied metadata would be stored unchecked in the tracker


class ContractSocketIOOutput(SocketIOOutput):
    """Sends custom payloads as {"custom": …}, like the REST channel.

    Rasa 3.6's socket.io output passes a custom payload as keyword arguments to `emit`, which
    fails for any payload that is not shaped {"data": …}; Yishi's payloads (type, bundle, …) are not.
    """

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"custom": json_message})


class GuardedSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel with the same guard on every message and the REST reply contract."""

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def guarded(message: UserMessage) -> Any:
            message.text = guard(message.text)
            message.metadata = None
            original = message.output_channel
            message.output_channel = ContractSocketIOOutput(original.sio, original.bot_message_evt)
            return await on_new_message(message)

        return super().blueprint(guarded)
