"""Retention (issue 14, req 5): conversations are kept YISHI_RETENTION_DAYS after their last event, then deleted.

`purge` deletes from the tracker store every conversation whose last event is older than the cutoff (its events,
its summary and its questions), and from the web app's store the unanswered questions and ended-conversation
marks older than it. Before a conversation's questions go, they are counted into `demand_daily` (day, outcome,
bundle, count: no text, no conversation id), so the console's demand charts of older weeks stay right.
Each store is changed in one transaction; `dry_run` counts without deleting.
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from yishi import settings

LOCAL = timezone(timedelta(hours=8))  # the console counts days in China Standard Time
DAY = 86400
AGGREGATES = """create table if not exists demand_daily (
    day text not null, outcome varchar(16) not null, bundle varchar(255) not null, count integer not null,
    primary key (day, outcome, bundle))"""


@dataclass
class Report:
    cutoff: float
    conversations: int = 0
    events: int = 0
    questions: int = 0
    web_rows: int = 0
    dry_run: bool = False

    def line(self) -> str:
        when = datetime.fromtimestamp(self.cutoff, LOCAL).strftime("%Y-%m-%d %H:%M")
        verb = "would delete" if self.dry_run else "deleted"
        return (f"{verb}: {self.conversations} conversations with no event since {when} ({self.events} events, "
                f"{self.questions} questions counted into demand_daily), {self.web_rows} rows of the web app's store")


def day_of(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, LOCAL).date().isoformat()


def purge(tracker_db: Path, web_db: Path | None, days: int, now: float | None = None,
          dry_run: bool = False) -> Report:
    """Delete what is older than `days` days (see the module's docstring); the report says how much."""
    report = Report(cutoff=(now if now is not None else time.time()) - days * DAY, dry_run=dry_run)
    if tracker_db.exists():
        _purge_tracker(tracker_db, report)
    if web_db is not None and web_db.exists():
        _purge_web(web_db, report)
    return report


def _tables(db: sqlite3.Connection) -> set[str]:
    return {row[0] for row in db.execute("select name from sqlite_master where type = 'table'")}


@contextmanager
def _writing(path: Path) -> Iterator[sqlite3.Connection]:
    """One write transaction (BEGIN IMMEDIATE: other writers wait, nothing is half deleted), committed unless the
    body rolled it back itself or failed."""
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        db.execute("begin immediate")
        yield db
        if db.in_transaction:
            db.execute("commit")
    except BaseException:
        if db.in_transaction:
            db.execute("rollback")
        raise
    finally:
        db.close()


def _purge_tracker(path: Path, report: Report) -> None:
    with _writing(path) as db:
        tables = _tables(db)
        if "events" not in tables:
            return
        old = [row[0] for row in db.execute("select sender_id from events group by sender_id having max(timestamp) < ?",
                                            (report.cutoff,))]
        db.execute("create temp table purged (sender_id text primary key)")
        db.executemany("insert into temp.purged values (?)", [(sender,) for sender in old])
        report.conversations = len(old)
        report.events = db.execute("select count(*) from events where sender_id in (select sender_id from temp.purged)"
                                   ).fetchone()[0]
        counts: Counter = Counter()
        if "conversation_questions" in tables:
            for at, outcome, bundle in db.execute("select at, outcome, bundle from conversation_questions "
                                                  "where sender_id in (select sender_id from temp.purged)"):
                counts[(day_of(at), outcome, bundle or "")] += 1
        report.questions = sum(counts.values())
        if report.dry_run:
            db.execute("rollback")
            return
        db.execute(AGGREGATES)
        db.executemany("""insert into demand_daily (day, outcome, bundle, count) values (?, ?, ?, ?)
                          on conflict (day, outcome, bundle) do update set count = count + excluded.count""",
                       [(*key, n) for key, n in sorted(counts.items())])
        for table in ("events", "conversation_questions", "conversation_summaries"):
            if table in tables:
                db.execute(f"delete from {table} where sender_id in (select sender_id from temp.purged)")  # noqa: S608


def _purge_web(path: Path, report: Report) -> None:
    with _writing(path) as db:
        tables = _tables(db)
        for table in ("unanswered", "ended_conversations", "hits"):
            if table in tables:
                report.web_rows += db.execute(f"select count(*) from {table} where at < ?",  # noqa: S608
                                              (report.cutoff,)).fetchone()[0]
                if not report.dry_run:
                    db.execute(f"delete from {table} where at < ?", (report.cutoff,))  # noqa: S608
        if report.dry_run:
            db.execute("rollback")


def claim(web_db: Path, today: str) -> bool:
    """True for the one caller that gets today's purge (every web worker asks; the first one wins)."""
    db = sqlite3.connect(web_db, timeout=30, isolation_level=None)
    try:
        db.execute("create table if not exists maintenance (task text primary key, day text not null)")
        db.execute("insert or ignore into maintenance values ('retention', '')")
        return db.execute("update maintenance set day = ? where task = 'retention' and day < ?",
                          (today, today)).rowcount == 1
    finally:
        db.close()


def run_daily(log, check_every_s: float = 3600) -> None:
    """The web app's daily purge (a daemon thread in each gunicorn worker; one of them does it each day)."""
    while True:
        try:
            web_db = settings.path("YISHI_WEB_DB")
            if claim(web_db, datetime.now(LOCAL).date().isoformat()):
                report = purge(settings.path("YISHI_TRACKER_DB"), web_db, settings.integer("YISHI_RETENTION_DAYS"))
                log.info("retention: %s", report.line())
        except Exception:  # a locked or missing file: try again at the next check
            log.exception("retention: the daily purge failed; trying again later")
        time.sleep(check_every_s)


def daily(tracker_db: Path, start: str, end: str) -> list[tuple[str, str, str, int]]:
    """(day, outcome, bundle, count) kept for purged conversations, days start..end (ISO dates, inclusive)."""
    if not tracker_db.exists():
        return []
    with sqlite3.connect(f"file:{tracker_db}?mode=ro", uri=True, timeout=30) as db:
        if "demand_daily" not in _tables(db):
            return []
        return db.execute("select day, outcome, bundle, count from demand_daily where day >= ? and day <= ? "
                          "order by day, outcome, bundle", (start, end)).fetchall()
