"""Retention (issue 14, req 5): conversations are kept YISHI_RETENTION_DAYS after their last event, then deleted.

`purge` deletes from the tracker store every conversation whose last event is older than the cutoff (its events,
its summary and its questions), and from the web app's store the unanswered questions and ended-conversation
marks older than it. Before a conversation's questions go, they are counted into `demand_daily` (day, outcome,
bundle, count: no text, no conversation id), so the console's demand charts of older weeks stay right.
Each store is changed in one transaction; `dry_run` counts without deleting.

好差评 (web_widget.ratings): a rating holds a conversation id and a masked sentence, so it goes like the conversation,
older than the cutoff, counted first into `rating_daily` (day, bundle, level, count) so satisfaction per week and
bundle stays right. Except an open 差评 (not yet 已回复): its follow-up record stays until it is closed, and so does
its conversation (the transcript staff need to deal with it); both go at the first purge after it is closed.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from yishi import db as databases
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
    ratings: int = 0
    kept_open: int = 0  # conversations past the cutoff kept for an open 差评
    dry_run: bool = False

    def line(self) -> str:
        when = datetime.fromtimestamp(self.cutoff, LOCAL).strftime("%Y-%m-%d %H:%M")
        verb = "would delete" if self.dry_run else "deleted"
        return (f"{verb}: {self.conversations} conversations with no event since {when} ({self.events} events, "
                f"{self.questions} questions counted into demand_daily), {self.web_rows} rows of the web app's store "
                f"({self.ratings} ratings counted into rating_daily); kept for an open 差评: {self.kept_open} conversations")


def day_of(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, LOCAL).date().isoformat()


def purge(tracker_db: str | Path, web_db: str | Path | None, days: int, now: float | None = None,
          dry_run: bool = False) -> Report:
    """Delete what is older than `days` days (see the module's docstring); the report says how much.
    Each store is a SQLite path or a database URL (yishi.db); a SQLite file that does not exist is skipped."""
    report = Report(cutoff=(now if now is not None else time.time()) - days * DAY, dry_run=dry_run)
    open_complaints = _open_complaints(web_db) if web_db is not None and _exists(web_db) else set()
    if _exists(tracker_db):
        _purge_tracker(tracker_db, report, open_complaints)
    if web_db is not None and _exists(web_db):
        _purge_web(web_db, report)
    return report


def _exists(place: str | Path) -> bool:
    file = databases.sqlite_file(place)
    return file is None or file.exists()


def _rows(db: Connection, sql: str, params: dict | None = None) -> list[tuple]:
    return [tuple(row) for row in db.execute(sa.text(sql), params or {})]


def _open_complaints(web_db: str | Path) -> set[str]:
    """The conversations with a 差评 not yet closed (web_widget.ratings: opened, and not 已回复)."""
    with databases.connect(web_db) as db:
        if "ratings" not in databases.tables(db):
            return set()
        return {row[0] for row in _rows(db, f"select conversation from ratings where {OPEN_COMPLAINT}")}  # noqa: S608


OPEN_COMPLAINT = "opened is not null and status <> 'replied'"


def _purge_tracker(place: str | Path, report: Report, keep: set[str] = frozenset()) -> None:
    with databases.connect(place) as db:
        if "events" not in databases.tables(db):
            return
    with databases.writing(place, "yishi-retention") as db:
        tables = databases.tables(db)
        if db.dialect.name != "sqlite":  # Rasa servers wait while the old conversations are picked and deleted
            db.exec_driver_sql("lock table events in exclusive mode")
        db.exec_driver_sql("create temporary table purged (sender_id varchar(255) primary key)")
        try:
            _purge_tracker_in(db, tables, report, keep)
        finally:
            db.exec_driver_sql("drop table purged")


def _purge_tracker_in(db: Connection, tables: set[str], report: Report, keep: set[str]) -> None:
    db.execute(sa.text("insert into purged (sender_id) select sender_id from events group by sender_id "
                       "having max(timestamp) < :cutoff"), {"cutoff": report.cutoff})
    if keep:
        report.kept_open = db.execute(sa.text("delete from purged where sender_id in :keep").bindparams(
            sa.bindparam("keep", expanding=True)), {"keep": sorted(keep)}).rowcount
    report.conversations = _rows(db, "select count(*) from purged")[0][0]
    report.events = _rows(db, "select count(*) from events where sender_id in (select sender_id from purged)")[0][0]
    counts: Counter = Counter()
    if "conversation_questions" in tables:
        for at, outcome, bundle in _rows(db, "select at, outcome, bundle from conversation_questions "
                                             "where sender_id in (select sender_id from purged)"):
            counts[(day_of(at), outcome, bundle or "")] += 1
    report.questions = sum(counts.values())
    if report.dry_run:
        return
    db.exec_driver_sql(AGGREGATES)
    for (day, outcome, bundle), n in sorted(counts.items()):
        db.execute(sa.text("""insert into demand_daily (day, outcome, bundle, count) values (:day, :outcome, :bundle, :n)
                              on conflict (day, outcome, bundle) do update set count = demand_daily.count + excluded.count"""),
                   {"day": day, "outcome": outcome, "bundle": bundle, "n": n})
    for table in ("events", "conversation_questions", "conversation_summaries"):
        if table in tables:
            db.exec_driver_sql(f"delete from {table} where sender_id in (select sender_id from purged)")  # noqa: S608


def _purge_web(place: str | Path, report: Report) -> None:
    with databases.writing(place, "yishi-web-retention") as db:
        tables = databases.tables(db)
        for table in ("unanswered", "ended_conversations", "hits", "bundle_answers"):
            if table in tables:
                report.web_rows += _rows(db, f"select count(*) from {table} where at < :cutoff",  # noqa: S608
                                         {"cutoff": report.cutoff})[0][0]
                if not report.dry_run:
                    db.execute(sa.text(f"delete from {table} where at < :cutoff"),  # noqa: S608
                               {"cutoff": report.cutoff})
        if "ratings" in tables:  # rating_daily is made with it (web_widget.store.META)
            _purge_ratings(db, report)


def _purge_ratings(db: Connection, report: Report) -> None:
    """Ratings older than the cutoff, counted per day first; an open 差评 stays until it is closed."""
    old = f"at < :cutoff and not ({OPEN_COMPLAINT})"
    counts: Counter = Counter()
    for at, bundle, level in _rows(db, f"select at, bundle, level from ratings where {old}", {"cutoff": report.cutoff}):  # noqa: S608
        counts[(day_of(at), bundle, level)] += 1
    report.ratings = sum(counts.values())
    report.web_rows += report.ratings
    if report.dry_run:
        return
    for (day, bundle, level), n in sorted(counts.items()):
        db.execute(sa.text("""insert into rating_daily (day, bundle, level, count) values (:day, :bundle, :level, :n)
                              on conflict (day, bundle, level) do update set count = rating_daily.count + excluded.count"""),
                   {"day": day, "bundle": bundle, "level": level, "n": n})
    db.execute(sa.text(f"delete from ratings where {old}"), {"cutoff": report.cutoff})  # noqa: S608


def claim(web_db: str | Path, today: str) -> bool:
    """True for the one caller that gets today's purge (every web worker asks, on every host; the first one wins)."""
    with databases.writing(web_db, "yishi-maintenance") as db:
        db.exec_driver_sql("create table if not exists maintenance (task varchar(64) primary key, day varchar(10) not null)")
        db.exec_driver_sql("insert into maintenance (task, day) values ('retention', '') on conflict do nothing")
        return db.execute(sa.text("update maintenance set day = :today where task = 'retention' and day < :today"),
                          {"today": today}).rowcount == 1


def run_daily(log, check_every_s: float = 3600) -> None:
    """The web app's daily purge (a daemon thread in each gunicorn worker; one of them does it each day)."""
    while True:
        try:
            web_db = settings.web_store()
            if claim(web_db, datetime.now(LOCAL).date().isoformat()):
                report = purge(settings.tracker_url(), web_db, settings.integer("YISHI_RETENTION_DAYS"))
                log.info("retention: %s", report.line())
        except Exception:  # a locked or missing file: try again at the next check
            log.exception("retention: the daily purge failed; trying again later")
        time.sleep(check_every_s)


def daily(tracker_db: str | Path, start: str, end: str) -> list[tuple[str, str, str, int]]:
    """(day, outcome, bundle, count) kept for purged conversations, days start..end (ISO dates, inclusive)."""
    if not _exists(tracker_db):
        return []
    with databases.connect(tracker_db, read_only=True) as db:
        if "demand_daily" not in databases.tables(db):
            return []
        return _rows(db, "select day, outcome, bundle, count from demand_daily where day >= :start and day <= :end "
                         "order by day, outcome, bundle", {"start": start, "end": end})
