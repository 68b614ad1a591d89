"""The web app never caps concurrency below Rasa's (issue 13): threaded workers, a cap per Rasa server on
the chats in flight, and the chat timeout as a deadline. A frozen Rasa server slows only the conversations
pinned to it; clients that dribble their headers do not starve the others."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.parse

import pytest
import requests
from flask import Flask

from ops import stack as stack_module
from yishi import settings
from yishi.rasa_client import pin

SECRET = "concurrency-tests"
TIMEOUT_S = 4  # the chat's deadline in these tests (8 s in production)


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    """Two Rasa servers and one web worker whose threads (4 × 3 per server + 4 = 28) the tests try to exhaust."""
    running = stack_module.start(tmp_path_factory.mktemp("two"), rasa_servers=2)
    web = running.start_web(workers=1, extra_env={
        "YISHI_SECRET_KEY": SECRET, "YISHI_CHAT_TIMEOUT_S": str(TIMEOUT_S), "YISHI_RASA_IN_FLIGHT": "3",
        "YISHI_RATE_PER_SESSION": "100000", "YISHI_RATE_PER_IP": "100000"})
    yield running, web
    running.stop()


def visitor_on(web_url: str, urls: list[str], wanted: str) -> requests.Session:
    """A visitor (cookie session) whose conversation the web app pinned to the Rasa server `wanted`."""
    app = Flask(__name__)
    app.secret_key = SECRET
    serializer = app.session_interface.get_signing_serializer(app)
    for _ in range(200):
        session = requests.Session()
        session.post(f"{web_url}/chat/message", json={"text": "你好"}, timeout=30).raise_for_status()
        if pin(urls, serializer.loads(session.cookies["session"])["sid"]) == wanted:
            return session
    raise AssertionError("no visitor pinned to " + wanted)


def test_a_frozen_rasa_server_slows_only_its_own_conversations(two):
    stack, web = two
    healthy_url, frozen_url = stack.rasa_urls
    healthy = [visitor_on(web.url, stack.rasa_urls, healthy_url) for _ in range(6)]
    stuck = [visitor_on(web.url, stack.rasa_urls, frozen_url) for _ in range(14)]  # more than the 12 threads it may hold
    frozen = stack.processes[2]  # the action server, then each Rasa server
    results: dict[int, tuple[float, list]] = {}

    def ask(index: int, session: requests.Session) -> None:
        started = time.monotonic()
        reply = session.post(f"{web.url}/chat/message", json={"text": "我要开健身房"}, timeout=60).json()["messages"]
        results[index] = (time.monotonic() - started, reply)

    os.kill(frozen.pid, signal.SIGSTOP)
    try:
        threads = [threading.Thread(target=ask, args=(i, s)) for i, s in enumerate(stuck + healthy)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=TIMEOUT_S + 10)
        on_healthy = [results.get(len(stuck) + i) for i in range(len(healthy))]
        on_frozen = [results.get(i) for i in range(len(stuck))]
        # while the other server is still frozen, every visitor of the healthy one has a real checklist…
        assert all(r and any((m.get("custom") or {}).get("type") == "bundle" for m in r[1]) for r in on_healthy), on_healthy
        # …and every visitor of the frozen one the polite fallback by the deadline, none left hanging
        assert all(r and r[1][0]["custom"]["type"] == "fallback" for r in on_frozen), on_frozen
        assert max(r[0] for r in on_frozen) < TIMEOUT_S + 3
    finally:
        os.kill(frozen.pid, signal.SIGCONT)


def dribble(url: str, stop: threading.Event) -> None:
    """A client that sends a request's headers one line a second and never finishes them."""
    parts = urllib.parse.urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        while not stop.wait(1.0):
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:
                return


def test_clients_dribbling_their_headers_do_not_starve_the_others(two):
    _, web = two
    stop = threading.Event()
    slow = [threading.Thread(target=dribble, args=(web.url, stop)) for _ in range(4)]
    for thread in slow:
        thread.start()
    try:
        time.sleep(1.5)  # the slow clients hold their connections
        for _ in range(5):
            assert requests.get(f"{web.url}/healthz", timeout=3).status_code == 200
        reply = requests.post(f"{web.url}/chat/message", json={"text": "我要开健身房"}, timeout=TIMEOUT_S + 3)
        assert any((m.get("custom") or {}).get("type") == "bundle" for m in reply.json()["messages"])
    finally:
        stop.set()
        for thread in slow:
            thread.join(timeout=5)


def test_an_idle_keep_alive_connection_still_takes_a_chat_message(two):
    """The web app keeps an idle connection longer than a client or proxy waits between two messages (gunicorn's
    default 2 s once dropped a message sent down a connection it was closing at that moment)."""
    _, web = two
    parts = urllib.parse.urlsplit(web.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    sockets = []
    try:
        for pause in (0.0, 3.0):
            time.sleep(pause)
            connection.request("POST", "/chat/message", body=json.dumps({"text": "你好"}),
                               headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            assert response.status == 200 and json.loads(response.read())["messages"]
            sockets.append(connection.sock)
        assert sockets[0] is not None and sockets[1] is sockets[0]  # one connection, kept open through the pause
    finally:
        connection.close()


def bundle_of(messages: list[dict]) -> dict | None:
    return next((m["custom"]["checklist"] for m in messages if (m.get("custom") or {}).get("type") == "bundle"), None)


@pytest.mark.parametrize("failure", ["frozen", "killed"])
def test_a_failed_server_s_conversations_continue_on_the_other_with_their_history(two, failure):
    """Issue 14, req 2 (the embedded profile's router): once the web app has seen a server fail (within 2 s), its
    conversations go to the next server, which reads them from the shared tracker store; they come back after."""
    stack, web = two
    home = stack.rasa_urls[1]
    visitors = [visitor_on(web.url, stack.rasa_urls, home) for _ in range(6)]
    for visitor in visitors:  # each starts a conversation on its home server: a checklist, then a question
        reply = visitor.post(f"{web.url}/chat/message", json={"text": "想开个洗车铺子"}, timeout=30).json()["messages"]
        assert bundle_of(reply)["slug"] == "car_wash"
    process = stack.processes[2]
    if failure == "frozen":
        os.kill(process.pid, signal.SIGSTOP)
    else:
        process.kill()
        process.wait(timeout=10)
    try:
        time.sleep(2.0)  # the web app sees the failure within 2 s (yishi/rasa_client.py: PROBE_S + PROBE_TIMEOUT_S)
        answer = '/answer_question{"question":"has_licence","value":"yes"}'
        for visitor in visitors:  # no fallback: the other server answers, with the conversation's history
            reply = visitor.post(f"{web.url}/chat/message", json={"text": answer}, timeout=30).json()["messages"]
            checklist = bundle_of(reply)
            assert checklist and checklist["slug"] == "car_wash", reply
            assert {q["key"]: q["answer"] for q in checklist["questions"]}["has_licence"] == "yes"
    finally:
        if failure == "frozen":
            os.kill(process.pid, signal.SIGCONT)
        else:
            stack.processes[2] = subprocess.Popen(
                stack_module.rasa_server_command(settings.path("YISHI_MODEL"), stack.rasa_ports[1], stack.jwt_secret,
                                                 stack.folder / "rasa-1-again.log"),
                cwd=settings.home(), env=stack.env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
            stack_module._wait(f"{home}/", 180, [stack.processes[2]])
    time.sleep(2.0)  # back home once it answers again
    for visitor in visitors:
        reply = visitor.post(f"{web.url}/chat/message", json={"text": "要带哪些材料"}, timeout=30).json()["messages"]
        assert "需要准备的材料" in reply[0]["text"], reply
