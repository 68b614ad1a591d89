"""REST and socket.io input channels that guard every message before Rasa processes or logs it, and send each
client only what it can show.

Guarding masks 身份证号 and mobile numbers (nothing unmasked reaches the tracker store or a log),
drops control characters, and turns a typed `/intent{...}` into plain text: only the payloads of
Yishi's own buttons reach Rasa's RegexMessageHandler.

The reply contract's `custom` payloads (the checklist card, …) go only to a client that announces it reads them,
with `{"yishi_contract": "rich"}` as the message's metadata (REST: `metadata`; socket.io: rasa-webchat's
`customData`), as Yishi's web app does. Any other client (rasa-webchat, `rasa shell`, a chat app) gets the text
and buttons, and with a checklist a link to its printable page, never an empty bubble for a payload it cannot show.

Both channels answer cross-origin requests only from YISHI_WIDGET_ORIGINS, the sites allowed to embed the
widget; Rasa's HTTP API (JWT) gets no CORS headers at all.
"""

from __future__ import annotations

import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from chattext import guard
from yishi import settings
from yishi.contract import announced, for_plain_client

MAX_SENDER_LENGTH = 64


class ClientOutput(OutputChannel):
    """The output channel Rasa sends a turn's replies to, wrapped: a client that announced the rich contract gets
    every reply as it is; any other gets for_plain_client's. The wrapped channel still collects or emits them."""

    def __init__(self, inner: OutputChannel, rich: bool) -> None:
        self.inner = inner
        self.rich = rich

    def name(self) -> Text:  # type: ignore[override]  # the wrapped channel's name (responses may vary by channel)
        return self.inner.name()

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        shown = message if self.rich else for_plain_client(message)
        if shown is not None:
            await self.inner.send_response(recipient_id, shown)


def wrap(message: UserMessage, rich_by_default: bool) -> UserMessage:
    """The message guarded, with only the announcement kept as metadata and its replies going through ClientOutput."""
    message.text = guard(message.text)
    message.metadata = announced(message.metadata)
    message.output_channel = ClientOutput(message.output_channel, rich_by_default or message.metadata is not None)
    return message


def _body(request: Request) -> Dict[Text, Any]:
    body = request.json
    return body if isinstance(body, dict) else {}


class GuardedRestInput(RestInput):
    """Rasa's REST channel (/webhooks/rest/webhook) with guarded text, no shared `default` sender, replies a client
    can show and CORS for the allowed sites."""

    def __init__(self, rich_by_default: bool = False) -> None:
        self.rich_by_default = rich_by_default

    @classmethod
    def name(cls) -> Text:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "GuardedRestInput":
        return cls(bool((credentials or {}).get("rich_by_default", False)))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def guarded(message: UserMessage) -> Any:
            return await on_new_message(wrap(message, self.rich_by_default))

        webhook = super().blueprint(guarded)
        allowed = settings.widget_origins()  # read and checked once, when the server starts

        @webhook.route("/webhook", methods=["OPTIONS"])
        async def preflight(_: Request) -> HTTPResponse:
            return response.empty()

        @webhook.middleware("response")
        async def cors(request: Request, reply: HTTPResponse) -> None:
            # only the allowed sites get these headers, and only on the webhook (Rasa's app itself answers an
            # OPTIONS request without them: sanic-cors with no origins)
            origin = request.headers.get("origin")
            if origin and origin in allowed:
                reply.headers["Access-Control-Allow-Origin"] = origin
                reply.headers["Vary"] = "Origin"
                if request.method == "OPTIONS":
                    reply.headers["Access-Control-Allow-Methods"] = "POST"
                    reply.headers["Access-Control-Allow-Headers"] = "Content-Type"
                    reply.headers["Access-Control-Max-Age"] = "600"

        return webhook

    async def _extract_sender(self, request: Request) -> Optional[Text]:
        sender = _body(request).get("sender")
        if isinstance(sender, str) and 0 < len(sender) <= MAX_SENDER_LENGTH:
            return sender
        return f"anonymous-{uuid.uuid4().hex}"  # never Rasa's shared "default" conversation

    def _extract_message(self, request: Request) -> Optional[Text]:
        # guarded here already: Rasa logs this text when handling the message fails (wrap() guards again, harmlessly)
        return guard(_body(request).get("message"))

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        return announced(_body(request).get("metadata"))  # anything else would be stored unchecked in the tracker


class ContractSocketIOOutput(SocketIOOutput):
    """Sends custom payloads as {"custom": …}, like the REST channel.

    Rasa 3.6's socket.io output passes a custom payload as keyword arguments to `emit`, which
    fails for any payload that is not shaped {"data": …}; Yishi's payloads (type, bundle, …) are not.
    """

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"custom": json_message})


class GuardedSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel with the same guard on every message, the REST reply contract, replies a client can
    show, and connections from other sites only from YISHI_WIDGET_ORIGINS."""

    rich_by_default = False  # set from the channel's credentials

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = dict(credentials or {})
        rich_by_default = bool(credentials.pop("rich_by_default", False))
        channel = super().from_credentials(credentials)
        channel.rich_by_default = rich_by_default
        return channel

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def guarded(message: UserMessage) -> Any:
            original = message.output_channel
            message.output_channel = ContractSocketIOOutput(original.sio, original.bot_message_evt)
            return await on_new_message(wrap(message, self.rich_by_default))

        webhook = super().blueprint(guarded)
        # Rasa creates its socket.io server with CORS handling switched off (cors_allowed_origins=[]): every origin
        # could connect, and polling answers carry no CORS headers. Engine.IO checks the Origin of every request
        # (polling and websocket) against a list; without allowed sites, only the server's own origin may connect.
        self.sio.eio.cors_allowed_origins = settings.widget_origins() or None
        return webhook
