"""The city profile, timed (issue 14, req 8): messages per second through the web app with 1, 2 and 3 Rasa servers
on PostgreSQL and Redis behind deploy/haproxy.cfg, beside the embedded profile (SQLite, the web app's own router,
2 Rasa servers) in the same run; and, for each profile, the time from freezing a Rasa server (SIGSTOP) to the
first answer for a conversation that lived on it.

One machine (2 cores here) runs every server: more Rasa servers share the same cores, so the figures show what
the city profile costs and how failover behaves, not how it scales across hosts. Figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bench.chat_bench import CONVERSATION  # noqa: E402
from bench.load import UNLIMITED_RATES, Run, WebVisitor, crowd, percentile, tree_mb  # noqa: E402
from ops import services  # noqa: E402
from ops import stack as stack_module  # noqa: E402
from yishi import rasa_client  # noqa: E402

SECRET = "city-bench"
UNLIMITED = UNLIMITED_RATES | {"YISHI_SECRET_KEY": SECRET}


def row(name: str, run: Run) -> str:
    rate = len(run.times) / run.seconds if run.seconds else 0.0
    return (f"| {name} | {rate:.1f} | {statistics.median(run.times):.0f} | {percentile(run.times, 0.99):.0f} | "
            f"{len(run.errors)} |")


def failover(web_url: str, home_of) -> str:
    """Freeze the Rasa server holding a fresh conversation, then ask again every 0.2 s (each ask a thread of its own,
    all in that conversation); the time from the freeze to the first answer, and how many asks got the fallback."""
    visitor = WebVisitor(web_url)
    assert visitor.say("想开个洗车铺子") is None, "the conversation did not start"
    pid = home_of(visitor)
    outcomes: list[tuple[float, float, str | None]] = []
    lock = threading.Lock()
    frozen_at = time.monotonic()
    os.kill(pid, signal.SIGSTOP)

    def ask(sent: float) -> None:
        problem = visitor.say("要带什么材料")
        with lock:
            outcomes.append((sent - frozen_at, time.monotonic() - frozen_at, problem))

    threads = []
    try:
        while time.monotonic() - frozen_at < 10:
            thread = threading.Thread(target=ask, args=(time.monotonic(),))
            thread.start()
            threads.append(thread)
            time.sleep(0.2)
        for thread in threads:
            thread.join(timeout=30)
    finally:
        os.kill(pid, signal.SIGCONT)
    answered = sorted((done, sent) for sent, done, problem in outcomes if problem is None)
    fallbacks = sum(1 for _, _, problem in outcomes if problem)
    if not answered:
        return f"no answer within 10 s ({fallbacks} fallbacks)"
    first_sent = min(sent for _, sent in answered)
    return (f"first answer {answered[0][0]:.2f} s after the freeze (asked at +{answered[0][1]:.2f} s); every ask "
            f"sent after +{first_sent:.2f} s answered; {fallbacks} of {len(outcomes)} asks got the polite fallback "
            f"(those sent before the failure was seen wait for the chat timeout)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20, help="length of each load")
    args = parser.parse_args()

    def scripted() -> list[str]:
        return CONVERSATION

    rows: list[str] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # the city profile: 3 Rasa servers, one action server, PostgreSQL, Redis, HAProxy in front of 1, 2 or 3 of them
        postgres = services.start_postgres()
        redis = services.start_redis(folder / "redis")
        free = stack_module.free_port
        rasa_ports, actions_port = [free(), free(), free()], free()
        balancers: list[services.Haproxy] = []
        stack = None
        try:
            actions_lb = services.start_haproxy(folder / "lb-actions", [], [f"127.0.0.1:{actions_port}"])
            balancers.append(actions_lb)
            stack = stack_module.start(folder / "city", rasa_servers=3, rasa_ports=rasa_ports, actions_port=actions_port,
                                       extra_env={"YISHI_DATABASE_URL": postgres.url, "YISHI_REDIS_URL": redis.url,
                                                  "YISHI_ACTION_URL": actions_lb.action_url})
            print(f"-- the city profile: web app (2 workers) → HAProxy → N Rasa servers → action server; PostgreSQL "
                  f"tracker store and web store, Redis lock store, rate limits and sessions; {args.users} visitors, "
                  f"{args.seconds:.0f} s each, the scripted conversation")
            for count in (1, 2, 3):
                lb = services.start_haproxy(folder / f"lb-{count}", [f"127.0.0.1:{p}" for p in rasa_ports[:count]], [])
                balancers.append(lb)
                web = stack.start_web(workers=2, folder=folder / f"web-{count}", extra_env=UNLIMITED | {
                    "YISHI_RASA_URLS": lb.rasa_url, "YISHI_RASA_IN_FLIGHT": str(6 * count)})
                time.sleep(1.5)  # HAProxy's first health checks
                run = crowd(lambda url=web.url: WebVisitor(url), scripted, args.users, args.seconds)
                rows.append(row(f"city, {count} Rasa server{'s' if count > 1 else ''}", run))
                print(rows[-1])
                if count == 2:
                    def home_of(visitor: WebVisitor, lb=lb) -> int:
                        """The Rasa server HAProxy sent this conversation to (its log names the captured header)."""
                        sid = _sid(visitor)
                        server = next(int(m.group(1)) for line in lb.log_lines()
                                      if (m := re.search(r"rasa_servers/rasa(\d) .*\{" + sid + r"\}", line)))
                        return stack.processes[1 + server].pid

                    time.sleep(2)
                    notes.append("city failover (HAProxy, 2 servers): " + failover(web.url, home_of))
                    print(notes[-1])
                memory = {"web app": tree_mb(web.process.pid)}
                web.process.terminate()
                web.process.wait(timeout=20)
                lb.stop()
            notes.append("city memory: " + ", ".join(
                [f"Rasa server {i + 1}: {tree_mb(p.pid):.0f} MB" for i, p in enumerate(stack.processes[1:4])]
                + [f"action server: {tree_mb(stack.processes[0].pid):.0f} MB", f"web app: {memory['web app']:.0f} MB"]))
        finally:
            if stack is not None:
                stack.stop()
            for lb in balancers:
                if lb.process.poll() is None:
                    lb.stop()
            redis.stop()
            postgres.remove()
        # the embedded profile in the same run: SQLite, the web app's own router over 2 Rasa servers
        embedded = stack_module.start(folder / "embedded", rasa_servers=2)
        try:
            web = embedded.start_web(workers=2, folder=folder / "web-embedded", extra_env=UNLIMITED)
            run = crowd(lambda: WebVisitor(web.url), scripted, args.users, args.seconds)
            rows.append(row("embedded, 2 Rasa servers", run))
            print(rows[-1])

            def home_of(visitor: WebVisitor) -> int:
                home = rasa_client.ranking(embedded.rasa_urls, _sid(visitor))[0]
                return embedded.processes[1 + embedded.rasa_urls.index(home)].pid

            notes.append("embedded failover (the web app's router, 2 servers): " + failover(web.url, home_of))
            print(notes[-1])
        finally:
            embedded.stop()
    print()
    print("| profile | msg/s | p50 ms | p99 ms | errors |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    print("\n".join(notes))


def _sid(visitor: WebVisitor) -> str:
    """A visitor's conversation id, read from its session cookie with Flask's own serializer and the key this bench
    gave the web app (the cookie is signed, not encrypted)."""
    from flask import Flask

    app = Flask(__name__, root_path=str(PROJECT))
    app.secret_key = SECRET
    return app.session_interface.get_signing_serializer(app).loads(visitor.session.cookies.get("session"))["sid"]


if __name__ == "__main__":
    main()
