"""The one client of Yishi's Rasa servers: the REST webhook, NLU parse and tracker, JWT and pinning.

Used by the web app's chat, the console's test bench, the warm-up, the test stack and the benchmark.
Rasa's channel webhooks need no token; its HTTP API (parse, tracker) takes a JWT signed with the
secret the servers were started with (`--jwt-secret`, HS256).
"""

from __future__ import annotations

import threading
import time
import zlib
from dataclasses import dataclass
from typing import Any

import jwt
import requests

from assistant.payloads import RICH_CONTRACT


class RasaUnavailable(RuntimeError):
    """Rasa did not answer, answered with an error, or answered something that is not JSON."""


class RasaTimeout(RasaUnavailable):
    """Rasa did not answer in time."""


class RasaBusy(RasaTimeout):
    """This process already has as many messages in flight and waiting for the server as it may."""


WAITING = 3  # a server's waiting room holds this many times its places in flight


class _Gate:
    """This process's limit on one Rasa server: `size` requests in flight and at most WAITING × size more
    waiting for a place; a request beyond that is turned away at once. So a stuck server holds at most
    (1 + WAITING) × size of the web worker's threads, whatever the number of visitors pinned to it."""

    def __init__(self, size: int) -> None:
        self.places = threading.BoundedSemaphore(size)
        self.waiting = threading.BoundedSemaphore(WAITING * size)

    def enter(self, deadline: float) -> bool:
        if not self.waiting.acquire(blocking=False):
            return False
        try:
            return self.places.acquire(timeout=max(0.0, deadline - time.monotonic()))
        finally:
            self.waiting.release()

    def leave(self) -> None:
        self.places.release()


_gates: dict[tuple[str, int], _Gate] = {}
_gates_lock = threading.Lock()


def _gate(url: str, size: int) -> _Gate:
    with _gates_lock:
        return _gates.setdefault((url, size), _Gate(size))


def pin(urls: list[str], sender: str) -> str:
    """The Rasa server a conversation lives on: a stable choice per sender, so no lock store is needed."""
    return urls[zlib.crc32(sender.encode()) % len(urls)]


@dataclass(frozen=True)
class RasaClient:
    urls: list[str]
    jwt_secret: str = ""
    timeout: float = 8.0
    username: str = "yishi"
    in_flight: int = 0  # chat messages this process sends to one server at once; 0: no limit

    def url_for(self, sender: str) -> str:
        return pin(self.urls, sender)

    def auth(self) -> dict[str, str]:
        """The header for Rasa's HTTP API."""
        token = jwt.encode({"user": {"username": self.username, "role": "admin"}}, self.jwt_secret, algorithm="HS256")
        return {"Authorization": f"Bearer {token}"}

    def _call(self, method: str, url: str, timeout: float | None, **kwargs: Any) -> Any:
        try:
            answer = requests.request(method, url, timeout=timeout or self.timeout, **kwargs)
            answer.raise_for_status()
            return answer.json()
        except requests.Timeout as exc:
            raise RasaTimeout(f"{method} {url.split('?')[0]}: no answer in time") from exc
        except (requests.RequestException, ValueError) as exc:
            raise RasaUnavailable(f"{method} {url.split('?')[0]}: {type(exc).__name__}") from exc

    def send(self, sender: str, text: str, timeout: float | None = None,
             deadline: float | None = None) -> list[dict[str, Any]]:
        """One message through the REST channel of the sender's server: the bot's messages ([] when the
        action server is down: Rasa answers 200 with nothing).

        deadline (time.monotonic()): the answer is due by then, waiting for a place among the server's
        in-flight messages included; RasaTimeout when it cannot be."""
        url = self.url_for(sender)
        deadline = deadline if deadline is not None else time.monotonic() + (timeout or self.timeout)
        gate = _gate(url, self.in_flight) if self.in_flight else None
        if gate is not None and not gate.enter(deadline):
            raise RasaBusy(f"POST {url}/webhooks/rest/webhook: no place free before the deadline")
        try:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RasaTimeout(f"POST {url}/webhooks/rest/webhook: the deadline passed")
            messages = self._call("POST", f"{url}/webhooks/rest/webhook", left,
                                  json={"sender": sender, "message": text, "metadata": RICH_CONTRACT})
        finally:
            if gate is not None:
                gate.leave()
        return messages if isinstance(messages, list) else []

    def parse(self, text: str, sender: str = "", timeout: float | None = None) -> dict[str, Any]:
        """Rasa's NLU parse of a text (intent ranking, entities, tokens), on the sender's server."""
        return self._call("POST", f"{self.url_for(sender)}/model/parse", timeout, json={"text": text},
                          headers=self.auth())

    def tracker(self, sender: str, events: bool = True, timeout: float | None = None) -> dict[str, Any]:
        """The conversation's tracker: slots and, with events, every event of it."""
        query = "" if events else "?include_events=NONE"
        return self._call("GET", f"{self.url_for(sender)}/conversations/{sender}/tracker{query}", timeout,
                          headers=self.auth())
