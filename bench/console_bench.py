"""Does the staff console slow citizens down? (issue 12)

The real stack as `make run` starts it (action server, 2 Rasa servers, the web app under gunicorn), its
tracker store filled with SEEDED conversations (copies of one real conversation's stored events,
spread over the console's default 28 days, summarised as the tracker store does). Then 20 visitors chat
through the web app (`/chat/message`, each a cookie session of the 8 messages below, then a new
visitor), in rounds alternating without and with two logged-in console tabs that reload the
conversation list and the demand page (HTML and JSON) one after the other: a second apart (a tab left
refreshing), then as fast as the server answers (a flood no person makes, shown for the worst case).
Prints the citizens' p50/p95 in each, the ratio of the p95s (target ≤ 1.2), and the console's own times.

Also times, on the same seeded store, the conversation-list query of the previous commit (a scan of every
event in the range) beside the summary table's page: the reference for what the summary changed.

All visitors come from 127.0.0.1, so the per-address and per-visitor rate limits are raised for the run.
Figures, never pass/fail: this machine is shared and noisy, compare the ratios.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bench.chat_bench import CONVERSATION  # noqa: E402
from bench.load import UNLIMITED_RATES, Run, WebVisitor, crowd, percentile, tree_mb  # noqa: E402
from ops import stack as stack_module  # noqa: E402
from yishi import summaries  # noqa: E402

STAFF, PASSWORD = "bench.staff", "bench-password-1"
CONSOLE_PAGES = ["/staff/conversations", "/staff/api/conversations", "/staff/demand", "/staff/api/demand"]

# The previous commit's conversation list (web_widget/staff/tracker.py at ec0d974): every event of the range.
SCAN = """
    select sender_id, min(timestamp), max(timestamp), sum(type_name = 'user'), group_concat(distinct shown)
    from (select sender_id, timestamp, type_name,
                 case when type_name = 'bot' and json_extract(data, '$.data.custom.type') in ('bundle', 'question')
                      then json_extract(data, '$.data.custom.bundle') end as shown
          from events where type_name in ('user', 'bot') and timestamp >= ? and timestamp < ?)
    group by sender_id order by max(timestamp) desc, sender_id"""
PAGE = """select sender_id, first_at, last_at, user_messages, bundles from conversation_summaries
          where last_at >= ? and first_at < ? order by last_at desc, sender_id limit 50"""


def seed(stack: stack_module.Stack, web_url: str, count: int) -> float:
    """count copies of one real conversation (held through the web app), as stored events and summaries."""
    visitor = requests.Session()
    for text in CONVERSATION:
        visitor.post(f"{web_url}/chat/message", json={"text": text}, timeout=30).raise_for_status()
    started = time.perf_counter()
    db = sqlite3.connect(stack.tracker_db, timeout=60, isolation_level=None)
    sender = db.execute("select sender_id from events where sender_id not like 'yishi-warmup-%' "
                        "order by id desc limit 1").fetchone()[0]
    rows = db.execute("select type_name, timestamp, intent_name, action_name, data from events "
                      "where sender_id = ? order by id", (sender,)).fetchall()
    first = rows[0][1]
    now = time.time()
    random.seed(7)
    database = summaries.DbApi(db)
    for _ in range(count):
        copy = f"seeded-{uuid.uuid4().hex}"
        shift = now - random.uniform(60, 27 * 86400) - first
        db.execute("begin")
        events = []
        for type_name, at, intent, action, data in rows:
            event = json.loads(data)
            event["timestamp"] = at + shift
            events.append(event)
            db.execute("insert into events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                       "values (?, ?, ?, ?, ?, ?)", (copy, type_name, at + shift, intent, action, json.dumps(event)))
        summaries.record(database, copy, events)
        db.execute("commit")
    db.close()
    return time.perf_counter() - started


def console_tab(web_url: str, stop: threading.Event, times: list[float], errors: list[str],
                pages: dict[str, list[float]] | None = None, pause: float = 1.0) -> None:
    """A staff member's tab reloading the conversation list and the demand page, one after the other,
    `pause` seconds apart (0: as fast as the server answers, a flood no browser tab makes)."""
    session = requests.Session()
    session.post(f"{web_url}/staff/login", data={"username": STAFF, "password": PASSWORD}, timeout=30)
    for index in itertools.count():
        if stop.is_set():
            return
        started = time.perf_counter()
        path = CONSOLE_PAGES[index % len(CONSOLE_PAGES)]
        response = session.get(web_url + path, timeout=60)
        times.append((time.perf_counter() - started) * 1000)
        if pages is not None:
            pages.setdefault(path, []).append(times[-1])
        stop.wait(pause)
        if response.status_code != 200 or "/staff/login" in response.url:
            errors.append(f"{response.status_code} {response.url}")


def rounds(web_url: str, users: int, seconds: float, repeat: int, pause: float) -> None:
    plain, busy = Run(), Run()
    console: list[float] = []
    errors: list[str] = []
    pages: dict[str, list[float]] = {}
    for _ in range(repeat):
        for target, with_console in ((plain, False), (busy, True)):
            stop = threading.Event()
            tabs = [threading.Thread(target=console_tab, args=(web_url, stop, console, errors, pages, pause))
                    for _ in range(2 if with_console else 0)]
            for tab in tabs:
                tab.start()
            run = crowd(lambda: WebVisitor(web_url), lambda: CONVERSATION, users, seconds)
            stop.set()
            for tab in tabs:
                tab.join()
            target.times += run.times
            target.errors += run.errors
            target.seconds += run.seconds
    print(f"  two tabs reloading a console page every {pause:g} s" if pause else "  two tabs reloading console pages "
          "as fast as the server answers them (a flood, not a person)")
    print(f"  citizens without the console: {plain.line()}")
    print(f"  citizens with two console tabs: {busy.line()}")
    print(f"  ratio of p95s (with / without the console): {percentile(busy.times, 0.95) / percentile(plain.times, 0.95):.2f}"
          f"  (target ≤ 1.2); of p50s: {statistics.median(busy.times) / statistics.median(plain.times):.2f}")
    print(f"  console: {len(console)} page loads, p50 {statistics.median(console):.0f} ms, "
          f"p95 {percentile(console, 0.95):.0f} ms; errors: {len(errors)} {sorted(set(errors))[:5]}")
    print("  per page, p50: " + ", ".join(f"{path} {statistics.median(t):.0f} ms" for path, t in pages.items()))


def queries(tracker_db: Path) -> None:
    """The previous commit's full scan beside one page from the summary table, on the same store."""
    db = sqlite3.connect(tracker_db.resolve().as_uri() + "?mode=ro", uri=True)
    end = time.time() + 86400
    start = end - 29 * 86400
    timings = {}
    for name, sql in (("previous commit: scan of every event", SCAN), ("summary table: one page of 50", PAGE)):
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            rows = db.execute(sql, (start, end)).fetchall()
            runs.append((time.perf_counter() - started) * 1000)
        timings[name] = min(runs)
        print(f"  {name}: {min(runs):.1f} ms (best of 3, {len(rows)} rows)")
    events = db.execute("select count(*) from events").fetchone()[0]
    scan, page = timings.values()
    print(f"  ({events} events; scan / page: {scan / max(page, 0.01):.0f}×)")
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=3500, help="seeded conversations (the finding had 3,446)")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30, help="length of each round")
    parser.add_argument("--repeat", type=int, default=2, help="pairs of rounds (without, with the console)")
    parser.add_argument("--pause", type=float, action="append",
                        help="seconds between a tab's reloads; repeat for several loads (default: 1 and 0)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stack = stack_module.start(Path(tmp) / "stack", rasa_servers=2)
        try:
            web = stack.start_web(extra_env=UNLIMITED_RATES)
            web.add_staff(STAFF, PASSWORD)
            took = seed(stack, web.url, args.conversations)
            print(f"-- console under load: {args.conversations} seeded conversations ({took:.0f} s to write), "
                  f"{args.users} visitors through the web app, {args.repeat}× ({args.seconds:.0f} s without, "
                  f"{args.seconds:.0f} s with two console tabs)")
            for pause in args.pause or [1.0, 0.0]:
                rounds(web.url, args.users, args.seconds, args.repeat, pause)
            queries(stack.tracker_db)
            names = ["action server"] + [f"Rasa server {i + 1}" for i in range(len(stack.rasa_ports))] + ["web app"]
            print("  memory: " + ", ".join(f"{n}: {tree_mb(p.pid):.0f} MB" for n, p in zip(names, stack.processes)))
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
