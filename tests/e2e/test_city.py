"""The city profile on real services (issue 14, reqs 1 and 3): two Rasa servers on a private PostgreSQL tracker
store and Rasa's Redis lock store, switched on by settings alone (YISHI_DATABASE_URL, YISHI_REDIS_URL)."""

from __future__ import annotations

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
