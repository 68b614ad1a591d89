"""The Rasa client's limit per server: places in flight, a waiting room of the same size, the deadline; and its
kept-alive connections."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from yishi import rasa_client
from yishi.rasa_client import WAITING, _Gate


def test_a_full_gate_lets_some_wait_until_the_deadline_and_turns_the_rest_away():
    gate = _Gate(2)
    assert gate.enter(time.monotonic() + 1) and gate.enter(time.monotonic() + 1)  # both places taken
    results = []
    waiters = [threading.Thread(target=lambda: results.append(gate.enter(time.monotonic() + 0.5)))
               for _ in range(WAITING * 2)]
    for waiter in waiters:
        waiter.start()
    time.sleep(0.1)  # all of them in the waiting room now
    assert gate.enter(time.monotonic() + 5) is False  # the room is full: turned away at once, not after 5 s
    gate.leave()  # one place frees: one waiter gets it, the others reach their deadline
    for waiter in waiters:
        waiter.join()
    assert sorted(results) == [False] * (WAITING * 2 - 1) + [True]
    assert gate.enter(time.monotonic()) is False  # two in flight again, and no time to wait


def test_a_passed_deadline_gets_no_place_even_when_one_is_free():
    gate = _Gate(1)
    assert gate.enter(time.monotonic() - 1) is True  # a free place is taken without waiting
    assert gate.enter(time.monotonic() - 1) is False


class _Webhook(BaseHTTPRequestHandler):
    """A keep-alive HTTP/1.1 server answering the REST webhook with one message, noting each connection's port."""

    protocol_version = "HTTP/1.1"
    ports: list[int] = []
    hang_up = False  # close the connection after answering, without saying so (as a server whose keep-alive ran out)

    def do_POST(self):  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers["Content-Length"]))
        self.ports.append(self.client_address[1])
        body = json.dumps([{"text": "ok"}]).encode()
        # decided before answering: read after it, a test that set hang_up once the answer arrived closed this one
        self.close_connection = self.hang_up
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_):
        pass


class _Server(ThreadingHTTPServer):
    """Notes the client port of every connection it has closed."""

    def __init__(self, *args):
        super().__init__(*args)
        self.closed: set[int] = set()
        self.change = threading.Condition()

    def process_request_thread(self, request, client_address):  # the connection's thread: it ends closing it
        super().process_request_thread(request, client_address)
        with self.change:
            self.closed.add(client_address[1])
            self.change.notify_all()

    def has_closed(self, port: int, timeout: float) -> bool:
        with self.change:
            return self.change.wait_for(lambda: port in self.closed, timeout)


def _serve(port: int = 0) -> _Server:
    server = _Server(("127.0.0.1", port), _Webhook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_messages_of_one_thread_share_a_kept_connection_until_it_idles_or_the_server_closes_it(monkeypatch):
    monkeypatch.setattr(rasa_client, "KEEP_IDLE_S", 0.5)
    monkeypatch.setattr(rasa_client, "_local", threading.local())
    _Webhook.ports, _Webhook.hang_up = [], False
    server = _serve()
    client = rasa_client.RasaClient([f"http://127.0.0.1:{server.server_address[1]}"])
    try:
        for _ in range(3):
            assert client.send("a", "你好") == [{"text": "ok"}]
        assert len(set(_Webhook.ports)) == 1  # one connection for three messages
        time.sleep(0.7)
        assert client.send("a", "你好") == [{"text": "ok"}]
        assert len(set(_Webhook.ports)) == 2  # idle too long: a new one
        _Webhook.hang_up = True
        assert client.send("a", "你好") == [{"text": "ok"}]  # the server closes this one after answering
        _Webhook.hang_up = False
        # once it has closed it (its thread may run late on a busy machine), the next message
        assert server.has_closed(_Webhook.ports[-1], timeout=10)
        assert client.send("a", "你好") == [{"text": "ok"}]  # not a failure: a new connection
        assert len(set(_Webhook.ports)) == 3
    finally:
        server.shutdown()
        server.server_close()
