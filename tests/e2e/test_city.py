"""The city profile on real services (issue 14, reqs 1 and 3): two Rasa servers on a private PostgreSQL tracker
store and Rasa's Redis lock store, switched on by settings alone (YISHI_DATABASE_URL, YISHI_REDIS_URL)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass

import pytest
import requests
import sqlalchemy as sa

from ops import services
from ops import stack as stack_module
from yishi import settings
from yishi.db import tracker_session_options
from yishi.rasa_client import RasaClient

ARTIFACTS = settings.home() / "tests" / "artifacts"
ANSWER = '/answer_question{"question":"has_licence","value":"yes"}'


# Redis asks for its password; the private PostgreSQL trusts loopback, so its password is sent but not needed
REDIS_PASSWORD, DATABASE_PASSWORD = f"redis-{uuid.uuid4().hex}", f"pg-{uuid.uuid4().hex}"


@dataclass
class City:
    """The city profile as the tests run it: PostgreSQL, Redis, deploy/haproxy.cfg as it ships in front of two Rasa
    servers and two action servers (the stack's own and a second one), and the stack."""

    stack: stack_module.Stack
    postgres: services.Postgres
    redis: services.Redis
    balancer: services.Haproxy
    second_actions: subprocess.Popen


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    folder = tmp_path_factory.mktemp("city")
    postgres = services.start_postgres()
    redis = services.start_redis(folder / "redis", password=REDIS_PASSWORD)
    free = stack_module.free_port
    rasa_ports, actions_ports = [free(), free()], [free(), free()]
    balancer = services.start_haproxy(folder, [f"127.0.0.1:{p}" for p in rasa_ports],
                                      [f"127.0.0.1:{p}" for p in actions_ports])
    second = subprocess.Popen(stack_module.actions_command(actions_ports[1]), cwd=settings.home(),
                              env=os.environ | {"SANIC_HOST": "127.0.0.1", "RASA_TELEMETRY_ENABLED": "false"},
                              stdout=(folder / "actions-1.log").open("w"), stderr=subprocess.STDOUT)
    try:
        running = stack_module.start(folder / "stack", rasa_servers=2, rasa_ports=rasa_ports, actions_port=actions_ports[0],
                                     extra_env={"YISHI_DATABASE_URL": postgres.url, "YISHI_REDIS_URL": redis.url,
                                                "YISHI_REDIS_PASSWORD": REDIS_PASSWORD,
                                                "YISHI_DATABASE_PASSWORD": DATABASE_PASSWORD,
                                                "YISHI_ACTION_URL": balancer.action_url})
        try:
            yield City(running, postgres, redis, balancer, second)
        finally:
            running.stop()
    finally:
        second.terminate()
        second.wait(timeout=20)
        balancer.stop()
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
    stack, postgres = city.stack, city.postgres
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
    stack, postgres, redis = city.stack, city.postgres, city.redis
    sender = f"city-{uuid.uuid4().hex}"
    on(stack.rasa_urls[0], stack, sender, "你好")
    monitor = subprocess.Popen(["redis-cli", "-p", str(redis.port), "-a", REDIS_PASSWORD, "--no-auth-warning", "monitor"],
                               stdout=subprocess.PIPE, text=True)
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
    stack, postgres = city.stack, city.postgres
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


def test_a_server_stopped_in_the_middle_of_saving_a_turn_holds_not_the_conversations_next_turn_elsewhere(city):
    """A Rasa server that froze while saving a turn holds that turn's transaction open, with the row locks of the
    conversation's summary (yishi/summaries.py). Its conversations move to the other server, whose next turn must
    not wait for them: PostgreSQL ends the frozen server's idle transaction (yishi/db.py), and its late save fails
    instead of landing after the turns that followed. Here the frozen server is a session with the Rasa servers' own
    options, stopped where a save would: the summary updated, the next question inserted, no commit."""
    stack, postgres = city.stack, city.postgres
    sender = f"city-{uuid.uuid4().hex}"
    assert bundle_of(on(stack.rasa_urls[0], stack, sender, "想开个洗车铺子"))["slug"] == "car_wash"
    frozen = sa.create_engine(postgres.url, connect_args=tracker_session_options())
    try:
        connection = frozen.connect()
        transaction = connection.begin()
        connection.execute(sa.text("update conversation_summaries set questions = questions + 1 where sender_id = :s"),
                           {"s": sender})
        connection.execute(sa.text("insert into conversation_questions (sender_id, seq, at, text, outcome) "
                                   "values (:s, 2, 0, '冻住的一轮', 'other')"), {"s": sender})
        # the other server takes the conversation's next turn within the chat deadline (8 s), not after the freeze
        reply = RasaClient([stack.rasa_urls[1]], stack.jwt_secret, timeout=8).send(sender, "我要开健身房")
        assert bundle_of(reply)["slug"] == "gym"
        with pytest.raises(sa.exc.DBAPIError):  # the frozen server, running again, cannot save its late turn
            transaction.commit()
        connection.close()
    finally:
        frozen.dispose()
    engine = sa.create_engine(postgres.url)
    try:
        with engine.connect() as reading:
            asked = reading.execute(sa.text("select seq, text, bundle from conversation_questions where sender_id = :s "
                                            "order by seq"), {"s": sender}).all()
    finally:
        engine.dispose()
    assert [tuple(row) for row in asked] == [(1, "想开个洗车铺子", "car_wash"), (2, "我要开健身房", "gym")]


def test_haproxy_as_shipped_keeps_conversations_on_their_server_and_fails_over(city, tmp_path):
    """deploy/haproxy.cfg in front of the two Rasa servers: the web app sends the conversation id in a header,
    HAProxy hashes on it; with one server frozen, no visitor gets a fallback once HAProxy has seen it (2 s), and
    each conversation continues with its history from PostgreSQL."""
    stack = city.stack
    offset = city.balancer.log.stat().st_size
    web = stack.start_web(workers=1, folder=tmp_path, extra_env={
        "YISHI_SECRET_KEY": "city-tests", "YISHI_RASA_URLS": city.balancer.rasa_url, "YISHI_CHAT_TIMEOUT_S": "6",
        "YISHI_RATE_PER_SESSION": "100000", "YISHI_RATE_PER_IP": "100000"})
    frozen = stack.processes[2]
    try:
        visitors = [requests.Session() for _ in range(8)]
        for visitor in visitors:
            reply = visitor.post(f"{web.url}/chat/message", json={"text": "想开个洗车铺子"}, timeout=30).json()
            assert bundle_of(reply["messages"])["slug"] == "car_wash"
        # each conversation on one server; between them, both servers in use
        placed: dict[str, set[str]] = {}
        for line in city.balancer.log_lines(offset):
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


def _wait_for_log(balancer, offset: int, pattern: str, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(re.search(pattern, line) for line in balancer.log_lines(offset)):
            return True
        time.sleep(0.1)
    return False


def test_when_the_healthy_server_misses_a_check_after_a_failover_haproxy_keeps_its_turns_off_the_frozen_one(city, tmp_path):
    """With one Rasa server frozen, the other, busy with every conversation, can miss a health check: then every
    server looks down at once and HAProxy turns to its backups (the same servers). A frozen server's backup is down by
    then (3 failed checks), the busy one's is not (1 missed check): every turn waits for the busy server, none for the
    frozen one. Here the healthy server is frozen for a moment to make it miss its check."""
    stack, balancer = city.stack, city.balancer
    offset = balancer.log.stat().st_size
    web = stack.start_web(workers=1, folder=tmp_path, extra_env={
        "YISHI_SECRET_KEY": "city-tests", "YISHI_RASA_URLS": balancer.rasa_url,
        "YISHI_RATE_PER_SESSION": "100000", "YISHI_RATE_PER_IP": "100000"})
    healthy, frozen = stack.processes[1], stack.processes[2]  # rasa0 and rasa1 in deploy/haproxy.cfg
    visitors = [requests.Session() for _ in range(8)]
    try:
        for visitor in visitors:
            assert bundle_of(visitor.post(f"{web.url}/chat/message", json={"text": "想开个洗车铺子"},
                                          timeout=30).json()["messages"])
        os.kill(frozen.pid, signal.SIGSTOP)
        # HAProxy has seen the freeze (as shipped, the frozen server's backup too: about 4 s)
        _wait_for_log(balancer, offset, r"rasa_servers/rasa1-last-resort is DOWN", timeout=8)
        os.kill(healthy.pid, signal.SIGSTOP)
        try:
            assert _wait_for_log(balancer, offset, r"rasa_servers/rasa0 is DOWN")
            replies: list[list[dict]] = [[] for _ in visitors]

            def send(index: int) -> None:
                replies[index] = visitors[index].post(f"{web.url}/chat/message", json={"text": ANSWER},
                                                      timeout=30).json()["messages"]

            threads = [threading.Thread(target=send, args=(n,)) for n in range(len(visitors))]
            for thread in threads:
                thread.start()
            time.sleep(1.0)  # the turns wait in HAProxy's queue for the busy server
        finally:
            os.kill(healthy.pid, signal.SIGCONT)
        for thread in threads:
            thread.join(timeout=30)
        outcomes = ["answer" if bundle_of(reply) else "fallback" for reply in replies]
        assert outcomes == ["answer"] * len(visitors), outcomes
    finally:
        os.kill(frozen.pid, signal.SIGCONT)
        web.process.terminate()
        web.process.wait(timeout=10)


def _late_fallbacks_explained(balancer, offset: int, engine, freeze_wall: float, sent: int,
                              late_fallbacks: list) -> str:
    """A failed load test's evidence, written to tests/artifacts/city-load-failure.txt too: HAProxy's server state
    changes, and for each polite fallback after the freeze the web app's reason and HAProxy's lines of its
    conversation (server, timers Tq/Tw/Tc/Tr/Ta, status)."""
    lines = balancer.log_lines(offset)
    with engine.connect() as db:
        kept = db.execute(sa.text("select at, session, reason from unanswered where at >= :t order by at"),
                          {"t": freeze_wall}).all()
    report = [f"{sent} messages sent; fallbacks sent after +2 s from the freeze: {late_fallbacks}",
              "HAProxy's server state changes:"]
    report += [f"  {line}" for line in lines if " is DOWN" in line or " is UP" in line]
    for at, session, reason in kept:
        report.append(f"polite fallback given at {at - freeze_wall:+.2f} s from the freeze ({reason}), conversation "
                      f"{session[:8]}, HAProxy's last lines of it:")
        report += [f"  {line}" for line in lines if session in line][-6:]
    text = "\n".join(report)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "city-load-failure.txt").write_text(text + "\n", encoding="utf-8")
    return text


SCRIPT = ["想开个洗车铺子", ANSWER, "我要开健身房", "你好", "娃儿刚生要办啥", "二手房过户要带什么", "谢谢"]


def test_twenty_visitors_for_thirty_seconds_with_a_server_frozen_half_way_lose_no_turn(city, tmp_path):
    """Issue 14, req 3: 20 visitors chat through the web app (2 workers, its store in PostgreSQL, rate limits in
    Redis) and HAProxy for 30 s; at 15 s one Rasa server freezes. Every message sent ends up as one user event in
    PostgreSQL (those held by the frozen server once it runs again), and only messages sent before HAProxy saw the
    failure (2 s) may get the polite fallback. Then the console, reading PostgreSQL, lists the conversations."""
    stack, postgres = city.stack, city.postgres
    web = stack.start_web(workers=2, folder=tmp_path, extra_env={
        "YISHI_SECRET_KEY": "city-tests", "YISHI_RASA_URLS": city.balancer.rasa_url,
        "YISHI_RATE_PER_SESSION": "100000", "YISHI_RATE_PER_IP": "100000"})
    frozen = stack.processes[2]
    engine = sa.create_engine(postgres.url)
    offset = city.balancer.log.stat().st_size

    def user_events(since: float) -> int:
        with engine.connect() as db:
            return db.execute(sa.text("select count(*) from events where type_name = 'user' and timestamp >= :t "
                                      "and sender_id not like 'yishi-warmup-%'"), {"t": since}).scalar_one()

    sent: list[tuple[float, str]] = []  # (when it was sent, what came back: answer / fallback / error)
    lock = threading.Lock()
    start = time.time()
    stop_at = time.monotonic() + 30
    freeze_at: list[float] = []

    def visitor(number: int) -> None:
        session, turn = requests.Session(), 0
        while time.monotonic() < stop_at:
            if turn and turn % 8 == 0:
                session = requests.Session()  # the next visitor: a new conversation
            text = SCRIPT[(number + turn) % len(SCRIPT)]
            began = time.monotonic()
            try:
                reply = session.post(f"{web.url}/chat/message", json={"text": text}, timeout=30)
                kinds = [(m.get("custom") or {}).get("type") for m in reply.json()["messages"]]
                outcome = "fallback" if kinds == ["fallback"] else "answer" if reply.status_code == 200 else "error"
            except (requests.RequestException, ValueError, KeyError):
                outcome = "error"
            with lock:
                sent.append((began, outcome))
            turn += 1

    threads = [threading.Thread(target=visitor, args=(n,)) for n in range(20)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(15)
        os.kill(frozen.pid, signal.SIGSTOP)
        freeze_at.append(time.monotonic())
        freeze_wall = time.time()
        for thread in threads:
            thread.join(timeout=90)
    finally:
        os.kill(frozen.pid, signal.SIGCONT)
    try:
        outcomes = [o for _, o in sent]
        assert "error" not in outcomes and len(sent) > 200, (len(sent), outcomes.count("error"))
        # after HAProxy has seen the failure, nobody gets a fallback
        late = [(round(began - freeze_at[0], 2), o) for began, o in sent if began > freeze_at[0] + 2.0]
        late_fallbacks = [x for x in late if x[1] == "fallback"]
        if not late or late_fallbacks:  # say why in full (pytest shortens a long comparison): what HAProxy saw
            pytest.fail(_late_fallbacks_explained(city.balancer, offset, engine, freeze_wall, len(sent), late_fallbacks),
                        pytrace=False)
        # every message sent is in PostgreSQL: a turn in the tracker store, or, for the few the frozen server held
        # past the chat timeout, a polite fallback whose question the web app's store kept for staff
        answered, fallbacks = outcomes.count("answer"), outcomes.count("fallback")
        counted, settled = -1, 0
        while settled < 3:  # until the revived server has stored whatever it still does
            now = user_events(start)
            settled, counted = (settled + 1, now) if now == counted else (0, now)
            time.sleep(1)
        with engine.connect() as db:
            kept = db.execute(sa.text("select count(*) from unanswered where at >= :t"), {"t": start}).scalar_one()
        last_fallback = max([began - freeze_at[0] for began, o in sent if o == "fallback"] or [0.0])
        figures = (f"20 visitors, 30 s, one Rasa server frozen at 15 s: {len(sent)} messages sent, {answered} answered, "
                   f"{fallbacks} polite fallbacks (the last sent {last_fallback:+.1f} s from the freeze), "
                   f"{len(late)} sent after +2 s all answered; in PostgreSQL: {counted} user events, "
                   f"{kept} unanswered questions kept")
        print(figures)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "city-load.txt").write_text(figures + "\n", encoding="utf-8")
        assert answered <= counted <= answered + fallbacks, (answered, counted, fallbacks)
        assert kept == fallbacks and counted + kept >= len(sent), (counted, kept, len(sent))
        # the console reads the same PostgreSQL: log in and find today's conversations
        web.add_staff("wang.li", "correct horse battery")
        console = requests.Session()
        assert console.post(f"{web.url}/staff/login", data={"username": "wang.li", "password": "correct horse battery"},
                            timeout=30).status_code == 200
        listed = console.get(f"{web.url}/staff/api/conversations", timeout=30).json()
        assert listed["tracker"] and listed["total"] >= len(sent) // 8
        demand = console.get(f"{web.url}/staff/api/demand", timeout=30).json()
        assert demand["tracker"] and sum(day["total"] for day in demand["days"]) >= len(sent) // 2
    finally:
        engine.dispose()
        web.process.terminate()
        web.process.wait(timeout=10)


def test_the_action_servers_share_the_calls_and_one_killed_costs_no_answer(city, tmp_path):
    """Several action servers behind deploy/haproxy.cfg: calls go to both; with one killed, every answer still comes
    once HAProxy has seen it (2 s). (Last in this module: the second action server stays down.)"""
    stack = city.stack
    offset = city.balancer.log.stat().st_size
    for _ in range(6):
        assert bundle_of(on(stack.rasa_urls[0], stack, f"city-{uuid.uuid4().hex}", "想开个洗车铺子"))
    used = {m.group(1) for line in city.balancer.log_lines(offset) if (m := re.search(r"action_servers/(actions\d)", line))}
    assert used == {"actions0", "actions1"}, used
    city.second_actions.kill()
    city.second_actions.wait(timeout=10)
    time.sleep(2.0)
    answers = [bundle_of(on(stack.rasa_urls[1], stack, f"city-{uuid.uuid4().hex}", "我要开健身房")) for _ in range(6)]
    assert all(answers)
    assert any("actions1 is DOWN" in line for line in city.balancer.log_lines(offset))


def test_no_password_reaches_a_log(city, tmp_path_factory):
    """Every log of this module's servers (Rasa, actions, web app, HAProxy, Redis), after all of the above ran with
    the passwords in the environment: neither password appears, nor the URLs with them."""
    logs = [path for path in tmp_path_factory.getbasetemp().rglob("*") if path.is_file() and path.suffix == ".log"]
    assert len(logs) >= 8
    for path in logs:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert REDIS_PASSWORD not in text and DATABASE_PASSWORD not in text, path
    # the PostgreSQL restart above made turns fail: their tracebacks are logged, without the connection's locals
    rasa_logs = "".join(p.read_text(encoding="utf-8", errors="replace") for p in logs if p.name.startswith("rasa-"))
    assert "OperationalError" in rasa_logs
