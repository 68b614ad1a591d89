"""The one client of Yishi's Rasa servers: the REST webhook, NLU parse and tracker, JWT and pinning.

Used by the web app's chat, the console's test bench, the warm-up, the test stack and the benchmark.
Rasa's channel webhooks need no token; its HTTP API (parse, tracker) takes a JWT signed with the
secret the servers were started with (`--jwt-secret`, HS256).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import jwt
import requests
import urllib3
from urllib3 import exceptions as http_errors

from assistant.payloads import RICH_CONTRACT


class RasaUnavailable(RuntimeError):
    """Rasa did not answer, answered with an error, or answered something that is not JSON."""


class RasaTimeout(RasaUnavailable):
    """Rasa did not answer in time."""


class ConnectionFailed(ConnectionError):
    """The cause of a RasaUnavailable when the connection was refused or broke (no HTTP answer came)."""


class RasaBusy(RasaTimeout):
    """This process already has as many messages in flight and waiting for the server as it may."""


# every request of a conversation names it, so that a load balancer in front of several Rasa servers (the city
# profile: deploy/haproxy.cfg) keeps the conversation on one of them by consistent hashing
CONVERSATION = "X-Yishi-Conversation"

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


def ranking(urls: list[str], sender: str) -> list[str]:
    """Every server in one conversation's order of preference (rendezvous hashing): the first is its home, the
    next takes it while the home is down. A failure moves only the failed server's conversations, and each of them
    to a server chosen by its own hash, so they spread over the healthy ones."""
    return sorted(urls, key=lambda url: hashlib.blake2b(f"{url}\n{sender}".encode(), digest_size=8).digest(),
                  reverse=True)


def pin(urls: list[str], sender: str) -> str:
    """The Rasa server a conversation lives on while it is healthy: a stable choice per sender, so two servers
    never take one conversation at once (Rasa's in-memory lock store is per server)."""
    return ranking(urls, sender)[0]


PROBE_S = 0.5  # how often each web worker asks every Rasa server whether it answers
PROBE_TIMEOUT_S = 1.0  # a server slower than this to say hello counts as down: a failure is seen within 1.5 s


class Health:
    """This process's view of which Rasa servers answer (the embedded profile's router; in the city profile the
    load balancer does this, deploy/). One thread per server asks its `/` every PROBE_S; a failed or slow answer, or
    a chat request that fails, marks it down; a good answer marks it up again."""

    def __init__(self, urls: tuple[str, ...]) -> None:
        self.down: set[str] = set()
        self.lock = threading.Lock()
        for url in urls:  # one thread each, so a frozen server never delays seeing another one fail
            threading.Thread(target=self._probe, args=(url,), name="rasa-health", daemon=True).start()

    def is_up(self, url: str) -> bool:
        with self.lock:
            return url not in self.down

    def mark(self, url: str, up: bool) -> None:
        with self.lock:
            (self.down.discard if up else self.down.add)(url)

    def _probe(self, url: str) -> None:
        while True:
            try:
                up = requests.get(f"{url}/", timeout=PROBE_TIMEOUT_S).status_code == 200
            except requests.RequestException:
                up = False
            self.mark(url, up)
            time.sleep(PROBE_S)


_health: dict[tuple[str, ...], Health] = {}
_health_lock = threading.Lock()


def health(urls: list[str]) -> Health:
    """The one Health of this process for these servers, started on first use."""
    with _health_lock:
        key = tuple(urls)
        if key not in _health:
            _health[key] = Health(key)
        return _health[key]


KEEP_IDLE_S = 4.0  # a kept connection idle longer is closed, not reused: below every server's keep-alive (Sanic's
# default 5 s; Rasa's server 120 s, HAProxy's client timeout 30 s), so no server closes one as a message goes out on it
_local = threading.local()


def _pool() -> urllib3.PoolManager:
    """This thread's connections, one kept alive to each server between messages (a new connection per message was
    3.4 ms of the web app's own 9 ms on a message, bench/web_profile.py). A connection the server has closed is
    noticed by urllib3 before reuse and replaced. urllib3 itself rather than requests over it: requests' merging of
    settings, cookies and hooks was 1.3 ms of every message (py-spy, issue 13) and none of it is used here. Rasa is
    on the internal network: no proxy, no retries (a message is never sent twice by the client's own doing)."""
    now = time.monotonic()
    pool = getattr(_local, "pool", None)
    if pool is None or now - _local.used > KEEP_IDLE_S:
        if pool is not None:
            pool.clear()
        pool = _local.pool = urllib3.PoolManager(num_pools=16, maxsize=1, retries=False)
    _local.used = now
    return pool


@dataclass(frozen=True)
class RasaClient:
    urls: list[str]
    jwt_secret: str = ""
    timeout: float = 8.0
    username: str = "yishi"
    in_flight: int = 0  # chat messages this process sends to one server at once; 0: no limit
    failover: bool = False  # move a conversation to its next server while its own does not answer (Health)

    def url_for(self, sender: str) -> str:
        """The sender's home server, or with failover the first of its servers that answers (home when none does)."""
        if not self.failover or len(self.urls) == 1:
            return pin(self.urls, sender)
        servers = ranking(self.urls, sender)
        state = health(self.urls)
        return next((url for url in servers if state.is_up(url)), servers[0])

    def auth(self) -> dict[str, str]:
        """The header for Rasa's HTTP API."""
        token = jwt.encode({"user": {"username": self.username, "role": "admin"}}, self.jwt_secret, algorithm="HS256")
        return {"Authorization": f"Bearer {token}"}

    def _call(self, method: str, url: str, timeout: float | None, json_body: Any = None,
              headers: dict[str, str] | None = None) -> Any:
        """One request and its JSON answer. RasaTimeout when the server did not connect or answer within `timeout`
        (each of the two); RasaUnavailable for anything else, its cause a ConnectionFailed when no request reached
        the server or the connection broke (a refused connection: the message was never seen)."""
        where = url.split("?")[0]
        seconds = timeout or self.timeout
        body = None if json_body is None else json.dumps(json_body).encode("ascii")  # escapes, as requests sends it
        sent = {**(headers or {}), **({"Content-Type": "application/json"} if body is not None else {})}
        try:
            answer = _pool().request(method, url, body=body, headers=sent, redirect=False,
                                     timeout=urllib3.Timeout(connect=seconds, read=seconds))
            _local.used = time.monotonic()
        # a NewConnectionError (refused) is also a ConnectTimeoutError: it is told apart first
        except (http_errors.NewConnectionError, http_errors.ProtocolError) as exc:
            raise RasaUnavailable(f"{method} {where}: {type(exc).__name__}") from ConnectionFailed(str(exc))
        except http_errors.TimeoutError as exc:
            raise RasaTimeout(f"{method} {where}: no answer in time") from exc
        except http_errors.HTTPError as exc:
            raise RasaUnavailable(f"{method} {where}: {type(exc).__name__}") from exc
        if answer.status >= 400:
            raise RasaUnavailable(f"{method} {where}: HTTP {answer.status}")
        try:
            return json.loads(answer.data)
        except ValueError as exc:
            raise RasaUnavailable(f"{method} {where}: {type(exc).__name__}") from exc

    def send(self, sender: str, text: str, timeout: float | None = None,
             deadline: float | None = None) -> list[dict[str, Any]]:
        """One message through the REST channel of the sender's server: the bot's messages ([] when the
        action server is down: Rasa answers 200 with nothing).

        deadline (time.monotonic()): the answer is due by then, waiting for a place among the server's
        in-flight messages included; RasaTimeout when it cannot be."""
        deadline = deadline if deadline is not None else time.monotonic() + (timeout or self.timeout)
        url = self.url_for(sender)
        try:
            return self._send(url, sender, text, deadline)
        except RasaBusy:
            raise
        except RasaUnavailable as exc:
            if self.failover and len(self.urls) > 1:
                health(self.urls).mark(url, False)  # a failed or slow request counts
                # a server that refused the connection never saw the message: the next one may take it at once
                if isinstance(exc.__cause__, ConnectionFailed) and not isinstance(exc, RasaTimeout):
                    retry = self.url_for(sender)
                    if retry != url:
                        return self._send(retry, sender, text, deadline)
            raise

    def _send(self, url: str, sender: str, text: str, deadline: float) -> list[dict[str, Any]]:
        gate = _gate(url, self.in_flight) if self.in_flight else None
        if gate is not None and not gate.enter(deadline):
            raise RasaBusy(f"POST {url}/webhooks/rest/webhook: no place free before the deadline")
        try:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RasaTimeout(f"POST {url}/webhooks/rest/webhook: the deadline passed")
            messages = self._call("POST", f"{url}/webhooks/rest/webhook", left, headers={CONVERSATION: sender},
                                  json_body={"sender": sender, "message": text, "metadata": RICH_CONTRACT})
        finally:
            if gate is not None:
                gate.leave()
        return messages if isinstance(messages, list) else []

    def parse(self, text: str, sender: str = "", timeout: float | None = None) -> dict[str, Any]:
        """Rasa's NLU parse of a text (intent ranking, entities, tokens), on the sender's server."""
        return self._call("POST", f"{self.url_for(sender)}/model/parse", timeout, json_body={"text": text},
                          headers=self.auth() | {CONVERSATION: sender})

    def tracker(self, sender: str, events: bool = True, timeout: float | None = None) -> dict[str, Any]:
        """The conversation's tracker: slots and, with events, every event of it."""
        query = "" if events else "?include_events=NONE"
        return self._call("GET", f"{self.url_for(sender)}/conversations/{sender}/tracker{query}", timeout,
                          headers=self.auth() | {CONVERSATION: sender})
