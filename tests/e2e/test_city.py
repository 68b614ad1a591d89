"""The city profile on real services (issue 14, reqs 1 and 3): two Rasa servers on a private PostgreSQL tracker
store and Rasa's Redis lock store, switched on by settings alone (YISHI_DATABASE_URL, YISHI_REDIS_URL)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
import time
import uuid

import pytest
import requests
import sqlalchemy as sa

from ops import services
from ops import stack as stack_module
from yishi import settings
from yishi.rasa_client import RasaClient

ANSWER = '/answer_question{"question":"has_licence","value":"yes"}'


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    folder = tmp_path_factory.mktemp("city")
    postgres = services.start_postgres()
    redis = services.start_redis(folder / "redis")
    try:
        running = stack_module.start(folder / "stack", rasa_servers=2, extra_env={
            "YISHI_DATABASE_URL": postgres.url, "YISHI_REDIS_URL": redis.url})
        try:
            yield running, postgres, redis
        finally:
            running.stop()
    finally:
        redis.stop()
        postgres.remove()


def on(server: str, stack, sender: str, text: str) -> list[dict]:
    return RasaClient([server], stack.jwt_secret, timeout=30).send(sender, text)


def bundle_of(messages: list[dict]) -> dict | None:
    return next((m["custom"]["checklist"] for m in messages if (m.get("custom") or {}).get("type") == "bundle"), None)


def events(postgres, sender: str) -> list[tuple[str, str | None]]:
    engine = sa.create_engine(postgres.url)
    try:
        with engine.connect() as db:
            return [tuple(row) for row in db.execute(sa.text(
                "select type_name, action_name from events where sender_id = :s order by id"), {"s": sender})]
    finally:
        engine.dispose()


def test_the_rasa_servers_store_conversations_in_postgresql_and_continue_each_others(city):
    stack, postgres, _ = city
    first, second = stack.rasa_urls
    sender = f"city-{uuid.uuid4().hex}"
    assert bundle_of(on(first, stack, sender, "想开个洗车铺子"))["slug"] == "car_wash"
    refined = bundle_of(on(second, stack, sender, ANSWER))  # the other server, with the history from PostgreSQL
    assert refined and {q["key"]: q["answer"] for q in refined["questions"]}["has_licence"] == "yes"
    stored = events(postgres, sender)
    assert [t for t, _ in stored].count("user") == 2
    # nothing of it in the embedded profile's SQLite file
    assert not stack.tracker_db.exists() or stack.tracker_db.stat().st_size == 0


def test_the_redis_lock_store_serialises_one_conversation_sent_to_two_servers_at_once(city):
    stack, postgres, redis = city
    sender = f"city-{uuid.uuid4().hex}"
    on(stack.rasa_urls[0], stack, sender, "你好")
    monitor = subprocess.Popen(["redis-cli", "-p", str(redis.port), "monitor"], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)
        replies: list[list[dict]] = [[], []]

        def send(index: int, text: str) -> None:
            replies[index] = on(stack.rasa_urls[index], stack, sender, text)

        threads = [threading.Thread(target=send, args=(0, "想开个洗车铺子")),
                   threading.Thread(target=send, args=(1, "我要开健身房"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        monitor.terminate()
        seen = monitor.communicate(timeout=10)[0]
    assert all(bundle_of(r) for r in replies), replies  # both answered
    assert f'"SET" "yishi:lock:{sender}"' in seen  # the lock was taken in Redis
    # one turn after the other: every user message is followed by its actions before the next one starts
    kinds = [(t, a) for t, a in events(postgres, sender) if t in ("user", "action")]
    users = [i for i, (t, _) in enumerate(kinds) if t == "user"]
    assert len(users) == 3
    for start, end in zip(users, users[1:], strict=False):
        assert ("action", "action_listen") in kinds[start + 1:end], kinds


def test_a_postgresql_restart_gives_polite_fallbacks_then_answers_without_restarting_rasa(city, tmp_path):
    stack, postgres, _ = city
    web = stack.start_web(workers=1, folder=tmp_path, extra_env={"YISHI_SECRET_KEY": "city-tests",
                                                                 "YISHI_CHAT_TIMEOUT_S": "6"})
    rasa_pids = [p.pid for p in stack.processes[1:3]]
    visitor = requests.Session()

    def ask() -> str:
        reply = visitor.post(f"{web.url}/chat/message", json={"text": "想开个洗车铺子"}, timeout=30)
        assert reply.status_code == 200
        messages = reply.json()["messages"]
        return "answer" if bundle_of(messages) else messages[0]["custom"]["type"]

    try:
        assert ask() == "answer"
        postgres.stop()
        assert ask() == "fallback"  # polite, never an error page
        postgres.start()
        deadline = time.monotonic() + 30
        outcome = "fallback"
        while outcome != "answer" and time.monotonic() < deadline:
            outcome = ask()
        assert outcome == "answer"
        assert [p.pid for p in stack.processes[1:3]] == rasa_pids and all(p.poll() is None for p in stack.processes)
    finally:
        web.process.terminate()
        web.process.wait(timeout=10)
    assert settings.tracker_url(stack.env).startswith("postgresql://")


def test_haproxy_as_shipped_keeps_conversations_on_their_server_and_fails_over(city, tmp_path):
    """deploy/haproxy.cfg in front of the two Rasa servers: the web app sends the conversation id in a header,
    HAProxy hashes on it; with one server frozen, no visitor gets a fallback once HAProxy has seen it (2 s), and
    each conversation continues with its history from PostgreSQL."""
    stack, _, _ = city
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    port = stack_module.free_port()
    log = tmp_path / "haproxy.log"
    balancer = subprocess.Popen(
        [haproxy, "-f", str(settings.home() / "deploy/haproxy.cfg")], stdout=log.open("w"), stderr=subprocess.STDOUT,
        env={"RASA_LB_BIND": f"127.0.0.1:{port}", "RASA_LB_SERVER_0": stack.rasa_urls[0].removeprefix("http://"),
             "RASA_LB_SERVER_1": stack.rasa_urls[1].removeprefix("http://"),
             "RASA_LB_SERVER_2": f"127.0.0.1:{stack_module.free_port()}"})  # a third place, nothing listening
    web = stack.start_web(workers=1, folder=tmp_path, extra_env={
        "YISHI_SECRET_KEY": "city-tests", "YISHI_RASA_URLS": f"http://127.0.0.1:{port}", "YISHI_CHAT_TIMEOUT_S": "6",
        "YISHI_RATE_PER_SESSION": "100000", "YISHI_RATE_PER_IP": "100000"})
    frozen = stack.processes[2]
    try:
        time.sleep(1.5)  # HAProxy's first health checks
        visitors = [requests.Session() for _ in range(8)]
        for visitor in visitors:
            reply = visitor.post(f"{web.url}/chat/message", json={"text": "想开个洗车铺子"}, timeout=30).json()
            assert bundle_of(reply["messages"])["slug"] == "car_wash"
        # each conversation on one server; between them, both servers in use
        placed: dict[str, set[str]] = {}
        for line in log.read_text().splitlines():
            match = re.search(r"rasa_servers/(rasa\d) .*\{([0-9a-f]{32})\}", line)
            if match:
                placed.setdefault(match.group(2), set()).add(match.group(1))
        assert len(placed) == 8 and all(len(servers) == 1 for servers in placed.values()), placed
        assert set().union(*placed.values()) == {"rasa0", "rasa1"}
        os.kill(frozen.pid, signal.SIGSTOP)
        time.sleep(2.0)
        for visitor in visitors:
            reply = visitor.post(f"{web.url}/chat/message", json={"text": ANSWER}, timeout=30).json()["messages"]
            refined = bundle_of(reply)
            assert refined and {q["key"]: q["answer"] for q in refined["questions"]}["has_licence"] == "yes", reply
    finally:
        os.kill(frozen.pid, signal.SIGCONT)
        web.process.terminate()
        web.process.wait(timeout=10)
        balancer.terminate()
        balancer.wait(timeout=10)
