"""The web app's own SQLite file, and every SQL statement on it: questions Yishi could not answer,
rate-limit counters, staff accounts, sessions, login failures, the content log and review labels.

The schema is applied once per process start (create_app calls init_app), or by `init_db`; then one
connection per request in `g`, closed on teardown; WAL so gunicorn workers share it safely.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask, current_app, g

SCHEMA = """
create table if not exists unanswered (
    id integer primary key, at real not null, session text not null, text text not null, reason text not null);
create table if not exists hits (key text not null, at real not null);
create table if not exists ended_conversations (session text primary key, at real not null);
create index if not exists hits_key_at on hits (key, at);
create index if not exists unanswered_at on unanswered (at);
create table if not exists staff (username text primary key, password_hash text not null, created real not null);
create table if not exists staff_sessions (token text primary key, username text not null, csrf text not null,
    created real not null, seen real not null);
create table if not exists staff_failures (username text not null, at real not null);
create table if not exists content_log (id integer primary key, at real not null, username text not null,
    action text not null, kind text, record text, detail text not null);
create table if not exists review_labels (id integer primary key, at real not null, username text not null,
    event_id integer not null, sender text not null, text text not null, intent text not null);
"""


def _connect(path: str) -> sqlite3.Connection:
    return sqlite3.connect(path, timeout=5, isolation_level=None)


def init_db(path: str) -> None:
    """Create the file and its tables (idempotent); WAL is a property of the file, set once here."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = _connect(path)
    try:
        db.execute("pragma journal_mode=wal")
        db.executescript(SCHEMA)
    finally:
        db.close()


def connection() -> sqlite3.Connection:
    if "web_db" not in g:
        g.web_db = _connect(current_app.config["WEB_DB"])
    return g.web_db


def close(_exc: BaseException | None = None) -> None:
    db = g.pop("web_db", None)
    if db is not None:
        db.close()


def init_app(app: Flask) -> None:
    init_db(app.config["WEB_DB"])
    app.teardown_appcontext(close)


def keep_unanswered(session: str, text: str, reason: str) -> None:
    """Keep a (masked) question Yishi could not answer, so staff can see it."""
    connection().execute("insert into unanswered (at, session, text, reason) values (?, ?, ?, ?)",
                         (time.time(), session, text, reason))


def unanswered() -> list[dict]:
    rows = connection().execute("select at, session, text, reason from unanswered order by id").fetchall()
    return [{"at": r[0], "session": r[1], "text": r[2], "reason": r[3]} for r in rows]


def unanswered_between(start: float, end: float) -> list[dict]:
    """Unanswered questions kept between two timestamps."""
    rows = connection().execute("select at, session, text, reason from unanswered where at >= ? and at < ? "
                                "order by id", (start, end)).fetchall()
    return [{"at": r[0], "session": r[1], "text": r[2], "reason": r[3]} for r in rows]


@contextmanager
def writing() -> Iterator[sqlite3.Connection]:
    """A write transaction taken at once: one writer at a time across gunicorn's workers."""
    db = connection()
    db.execute("begin immediate")
    try:
        yield db
    except BaseException:
        db.execute("rollback")
        raise
    db.execute("commit")


def add_label(username: str, event_id: int, sender: str, text: str, intent: str) -> None:
    """Record who labelled a message, when and how (the review file keeps only the latest label)."""
    connection().execute("insert into review_labels (at, username, event_id, sender, text, intent) "
                         "values (?, ?, ?, ?, ?, ?)", (time.time(), username, event_id, sender, text, intent))


def labels(event_ids: list[int]) -> dict[int, dict]:
    """The latest label of each of these messages: {event_id: {"intent", "username", "at"}}."""
    if not event_ids:
        return {}
    marks = ",".join("?" * len(event_ids))
    rows = connection().execute(f"select event_id, intent, username, at from review_labels "
                                f"where event_id in ({marks}) order by id", event_ids).fetchall()
    return {r[0]: {"intent": r[1], "username": r[2], "at": r[3]} for r in rows}


def allow(key: str, limit: int, window_s: float = 60.0) -> bool:
    """Count one hit for key; False when key already had `limit` hits in the window."""
    now = time.time()
    db = connection()
    db.execute("delete from hits where at < ?", (now - window_s,))
    count = db.execute("select count(*) from hits where key = ?", (key,)).fetchone()[0]
    if count >= limit:
        return False
    db.execute("insert into hits (key, at) values (?, ?)", (key, now))
    return True


def log_content(username: str, action: str, kind: str | None, record: str | None, detail: str) -> None:
    """Keep who changed the catalogue's content, when and how (a record marked checked, a publish)."""
    connection().execute("insert into content_log (at, username, action, kind, record, detail) values (?, ?, ?, ?, ?, ?)",
                         (time.time(), username, action, kind, record, detail))


def content_log(limit: int = 20) -> list[dict]:
    """The latest content changes, newest first."""
    rows = connection().execute("select at, username, action, kind, record, detail from content_log "
                                "order by id desc limit ?", (limit,)).fetchall()
    return [dict(zip(("at", "username", "action", "kind", "record", "detail"), r, strict=True)) for r in rows]


# --- staff accounts, sessions and login failures ---------------------------------------------

def staff_exists(username: str) -> bool:
    return connection().execute("select 1 from staff where username = ?", (username,)).fetchone() is not None


def add_staff(username: str, password_hash: str) -> None:
    connection().execute("insert into staff values (?, ?, ?)", (username, password_hash, time.time()))


def password_hash(username: str) -> str | None:
    row = connection().execute("select password_hash from staff where username = ?", (username,)).fetchone()
    return row[0] if row else None


def add_failure(username: str) -> None:
    connection().execute("insert into staff_failures values (?, ?)", (username, time.time()))


def recent_failures(username: str, window_s: float) -> int:
    """Failed logins of username in the last window_s seconds (older ones are forgotten)."""
    db = connection()
    db.execute("delete from staff_failures where at < ?", (time.time() - window_s,))
    return db.execute("select count(*) from staff_failures where username = ?", (username,)).fetchone()[0]


def open_session(token: str, username: str, csrf: str) -> None:
    now = time.time()
    connection().execute("insert into staff_sessions values (?, ?, ?, ?, ?)", (token, username, csrf, now, now))


def live_session(token: str, idle_s: float, max_s: float) -> dict | None:
    """The session of token if it is neither idle too long nor too old (then it is touched); expired ones go."""
    db, now = connection(), time.time()
    row = db.execute("select username, csrf, created, seen from staff_sessions where token = ?", (token,)).fetchone()
    if row is None:
        return None
    if now - row[3] <= idle_s and now - row[2] <= max_s:
        db.execute("update staff_sessions set seen = ? where token = ?", (now, token))
        return {"username": row[0], "csrf": row[1], "token": token}
    db.execute("delete from staff_sessions where token = ?", (token,))
    return None


def close_session(token: str) -> None:
    connection().execute("delete from staff_sessions where token = ?", (token,))


# --- conversations ended with 重新开始 --------------------------------------------------------------

def end_conversation(session: str) -> None:
    """Remember that a visitor ended this conversation: a copy of the old cookie no longer reaches it."""
    connection().execute("insert or ignore into ended_conversations values (?, ?)", (session, time.time()))


def conversation_ended(session: str) -> bool:
    return connection().execute("select 1 from ended_conversations where session = ?", (session,)).fetchone() is not None
