"""The web app's own store, and every SQL statement on it: questions Yishi could not answer, rate-limit
counters, staff accounts, sessions, login failures, the content log and review labels.

Where it lives is a setting (yishi.db): the embedded profile's SQLite file YISHI_WEB_DB, or in the city profile
the PostgreSQL database of YISHI_DATABASE_URL, which every web worker on every host shares. With YISHI_REDIS_URL
set, rate-limit counters and staff sessions live in Redis instead (they expire by themselves there).

The tables are created once per process start (create_app calls init_app), or by `init_db`; then one pooled
connection per request in `g`, in autocommit mode, returned on teardown; `writing()` makes a block one write
transaction that other workers wait for.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy.engine import Connection

from yishi import db as databases

META = sa.MetaData()
sa.Table("unanswered", META, sa.Column("id", sa.Integer, primary_key=True), sa.Column("at", sa.Float, nullable=False),
         sa.Column("session", sa.Text, nullable=False), sa.Column("text", sa.Text, nullable=False),
         sa.Column("reason", sa.Text, nullable=False), sa.Index("unanswered_at", "at"))
sa.Table("hits", META, sa.Column("key", sa.String(255), nullable=False), sa.Column("at", sa.Float, nullable=False),
         sa.Index("hits_key_at", "key", "at"))
sa.Table("ended_conversations", META, sa.Column("session", sa.String(255), primary_key=True),
         sa.Column("at", sa.Float, nullable=False))
sa.Table("staff", META, sa.Column("username", sa.String(64), primary_key=True),
         sa.Column("password_hash", sa.Text, nullable=False), sa.Column("created", sa.Float, nullable=False))
sa.Table("staff_sessions", META, sa.Column("token", sa.String(255), primary_key=True),
         sa.Column("username", sa.String(64), nullable=False), sa.Column("csrf", sa.String(255), nullable=False),
         sa.Column("created", sa.Float, nullable=False), sa.Column("seen", sa.Float, nullable=False))
sa.Table("staff_failures", META, sa.Column("username", sa.String(255), nullable=False),
         sa.Column("at", sa.Float, nullable=False))
sa.Table("content_log", META, sa.Column("id", sa.Integer, primary_key=True), sa.Column("at", sa.Float, nullable=False),
         sa.Column("username", sa.String(64), nullable=False), sa.Column("action", sa.String(64), nullable=False),
         sa.Column("kind", sa.String(64)), sa.Column("record", sa.String(255)), sa.Column("detail", sa.Text, nullable=False))
sa.Table("audit_log", META, sa.Column("id", sa.Integer, primary_key=True), sa.Column("at", sa.Float, nullable=False),
         sa.Column("username", sa.String(64), nullable=False), sa.Column("action", sa.String(64), nullable=False),
         sa.Column("target", sa.String(255)), sa.Column("detail", sa.Text, nullable=False),
         sa.Column("before", sa.Text), sa.Column("after", sa.Text), sa.Index("audit_log_at", "at"))
sa.Table("review_labels", META, sa.Column("id", sa.Integer, primary_key=True), sa.Column("at", sa.Float, nullable=False),
         sa.Column("username", sa.String(64), nullable=False), sa.Column("event_id", sa.BigInteger, nullable=False),
         sa.Column("sender", sa.String(255), nullable=False), sa.Column("text", sa.Text, nullable=False),
         sa.Column("intent", sa.String(255), nullable=False))


def init_db(place: str | Path) -> None:
    """Create the store's tables (idempotent); a SQLite file is made and put in WAL mode, once, here."""
    sqlite = databases.sqlite_file(place)
    if sqlite is not None:
        sqlite.parent.mkdir(parents=True, exist_ok=True)
    if sqlite is not None:
        with databases.connect(place) as connection:
            connection.exec_driver_sql("pragma journal_mode=wal")
    with databases.writing(place, "yishi-web-schema") as connection:
        META.create_all(connection)


def _sql(statement: str, params: dict | None = None) -> sa.engine.CursorResult:
    return connection().execute(sa.text(statement), params or {})


def connection() -> Connection:
    """This request's connection (autocommit), checked out of the pool on first use."""
    if "web_db" not in g:
        g.web_db_context = databases.connect(current_app.config["WEB_DB"])
        g.web_db = g.web_db_context.__enter__()
    return g.web_db


def close(_exc: BaseException | None = None) -> None:
    context = g.pop("web_db_context", None)
    g.pop("web_db", None)
    if context is not None:
        context.__exit__(None, None, None)


def init_app(app: Flask) -> None:
    init_db(app.config["WEB_DB"])
    app.teardown_appcontext(close)
    if app.config.get("REDIS_URL"):
        import redis

        app.extensions["redis"] = redis.Redis.from_url(app.config["REDIS_URL"], password=app.config.get("REDIS_PASSWORD") or None,
                                                       socket_timeout=2, socket_connect_timeout=2, decode_responses=True)


def unavailable_errors() -> tuple[type[BaseException], ...]:
    """What a store that cannot be reached raises (the database, or Redis in the city profile)."""
    import redis

    return (sa.exc.DBAPIError, redis.RedisError)


def _redis():
    return current_app.extensions.get("redis")


def keep_unanswered(session: str, text: str, reason: str) -> None:
    """Keep a (masked) question Yishi could not answer, so staff can see it."""
    _sql("insert into unanswered (at, session, text, reason) values (:at, :session, :text, :reason)",
         {"at": time.time(), "session": session, "text": text, "reason": reason})


def unanswered() -> list[dict]:
    return [dict(r._mapping) for r in _sql("select at, session, text, reason from unanswered order by id")]


def unanswered_between(start: float, end: float) -> list[dict]:
    """Unanswered questions kept between two timestamps."""
    return [dict(r._mapping) for r in _sql("select at, session, text, reason from unanswered "
                                            "where at >= :start and at < :end order by id", {"start": start, "end": end})]


@contextmanager
def writing(lock: str = "yishi-web") -> Iterator[Connection]:
    """A write transaction taken at once, in which this request's statements run until the block ends: one writer at
    a time across every web worker (SQLite: the whole file; PostgreSQL: whoever holds the same lock name)."""
    outer = g.pop("web_db", None)
    with databases.writing(current_app.config["WEB_DB"], lock) as inside:
        g.web_db = inside
        try:
            yield inside
        finally:
            g.pop("web_db", None)
            if outer is not None:
                g.web_db = outer


def add_label(username: str, event_id: int, sender: str, text: str, intent: str) -> None:
    """Record who labelled a message, when and how (the review file keeps only the latest label)."""
    _sql("insert into review_labels (at, username, event_id, sender, text, intent) "
         "values (:at, :username, :event_id, :sender, :text, :intent)",
         {"at": time.time(), "username": username, "event_id": event_id, "sender": sender, "text": text, "intent": intent})


def labels(event_ids: list[int]) -> dict[int, dict]:
    """The latest label of each of these messages: {event_id: {"intent", "username", "at"}}."""
    if not event_ids:
        return {}
    statement = sa.text("select event_id, intent, username, at from review_labels where event_id in :ids order by id"
                        ).bindparams(sa.bindparam("ids", expanding=True))
    rows = connection().execute(statement, {"ids": list(event_ids)})
    return {r[0]: {"intent": r[1], "username": r[2], "at": r[3]} for r in rows}


# Redis: drop the hits older than the window, refuse at the limit, else count this one; atomic in one script
_ALLOW = """
redis.call('zremrangebyscore', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('zcard', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('zadd', KEYS[1], ARGV[1], ARGV[4])
redis.call('expire', KEYS[1], math.ceil(tonumber(ARGV[2])))
return 1
"""


def allow(key: str, limit: int, window_s: float = 60.0) -> bool:
    """Count one hit for key; False when key already had `limit` hits in the window."""
    now = time.time()
    shared = _redis()
    if shared is not None:
        return shared.eval(_ALLOW, 1, f"yishi:hits:{key}", now, window_s, limit, uuid.uuid4().hex) == 1
    with writing("yishi-web-hits"):
        _sql("delete from hits where at < :old", {"old": now - window_s})
        if _sql("select count(*) from hits where key = :key", {"key": key}).scalar_one() >= limit:
            return False
        _sql("insert into hits (key, at) values (:key, :at)", {"key": key, "at": now})
    return True


def log_content(username: str, action: str, kind: str | None, record: str | None, detail: str) -> None:
    """Keep who changed the catalogue's content, when and how (a record marked checked, a publish)."""
    _sql("insert into content_log (at, username, action, kind, record, detail) "
         "values (:at, :username, :action, :kind, :record, :detail)",
         {"at": time.time(), "username": username, "action": action, "kind": kind, "record": record, "detail": detail})


def audit(username: str, action: str, target: str | None, detail: str, before: Any = None, after: Any = None) -> None:
    """Record a staff action that changed something (who, when, what, and the before/after where small, as JSON).
    The audit trail is never purged with conversations (yishi/retention.py leaves it alone)."""
    def small(value: Any) -> str | None:
        if value is None:
            return None
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
        return text if len(text) <= AUDIT_VALUE_MAX else text[:AUDIT_VALUE_MAX] + "…"

    _sql("insert into audit_log (at, username, action, target, detail, before, after) "
         "values (:at, :username, :action, :target, :detail, :before, :after)",
         {"at": time.time(), "username": username, "action": action, "target": target, "detail": detail,
          "before": small(before), "after": small(after)})


AUDIT_VALUE_MAX = 2000  # characters of JSON kept for a before or after value


def audit_log(limit: int = 100, username: str | None = None, action: str | None = None) -> list[dict]:
    """The latest audited actions, newest first, optionally of one user or one kind of action."""
    where, params = [], {"limit": limit}
    if username:
        where.append("username = :username")
        params["username"] = username
    if action:
        where.append("action = :action")
        params["action"] = action
    condition = ("where " + " and ".join(where)) if where else ""
    return [dict(r._mapping) for r in _sql(f"select at, username, action, target, detail, before, after from audit_log "
                                            f"{condition} order by id desc limit :limit", params)]  # noqa: S608


def content_log(limit: int = 20) -> list[dict]:
    """The latest content changes, newest first."""
    return [dict(r._mapping) for r in _sql("select at, username, action, kind, record, detail from content_log "
                                            "order by id desc limit :limit", {"limit": limit})]


# --- staff accounts, sessions and login failures ---------------------------------------------

def staff_exists(username: str) -> bool:
    return _sql("select 1 from staff where username = :u", {"u": username}).first() is not None


def add_staff(username: str, password_hash: str) -> None:
    _sql("insert into staff (username, password_hash, created) values (:u, :h, :at)",
         {"u": username, "h": password_hash, "at": time.time()})


def password_hash(username: str) -> str | None:
    row = _sql("select password_hash from staff where username = :u", {"u": username}).first()
    return row[0] if row else None


def add_failure(username: str) -> None:
    _sql("insert into staff_failures (username, at) values (:u, :at)", {"u": username, "at": time.time()})


def recent_failures(username: str, window_s: float) -> int:
    """Failed logins of username in the last window_s seconds (older ones are forgotten)."""
    _sql("delete from staff_failures where at < :old", {"old": time.time() - window_s})
    return _sql("select count(*) from staff_failures where username = :u", {"u": username}).scalar_one()


def _session_key(token: str) -> str:
    """Redis keeps a session under a hash of its token: the store never holds a cookie that would work."""
    return "yishi:staff_session:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(token: str, username: str, csrf: str, idle_s: float | None = None) -> None:
    now = time.time()
    shared = _redis()
    if shared is not None:
        key = _session_key(token)
        shared.pipeline().hset(key, mapping={"username": username, "csrf": csrf, "created": now, "seen": now}) \
            .expire(key, int(idle_s or current_app.config["STAFF_IDLE_S"]) + 1).execute()
        return
    _sql("insert into staff_sessions (token, username, csrf, created, seen) values (:t, :u, :c, :now, :now)",
         {"t": token, "u": username, "c": csrf, "now": now})


def live_session(token: str, idle_s: float, max_s: float) -> dict | None:
    """The session of token if it is neither idle too long nor too old (then it is touched); expired ones go."""
    now = time.time()
    shared = _redis()
    if shared is not None:
        key = _session_key(token)
        found = shared.hgetall(key)
        if not found:
            return None
        if now - float(found["seen"]) <= idle_s and now - float(found["created"]) <= max_s:
            shared.pipeline().hset(key, "seen", now).expire(key, int(idle_s) + 1).execute()
            return {"username": found["username"], "csrf": found["csrf"], "token": token}
        shared.delete(key)
        return None
    row = _sql("select username, csrf, created, seen from staff_sessions where token = :t", {"t": token}).first()
    if row is None:
        return None
    if now - row[3] <= idle_s and now - row[2] <= max_s:
        _sql("update staff_sessions set seen = :now where token = :t", {"now": now, "t": token})
        return {"username": row[0], "csrf": row[1], "token": token}
    _sql("delete from staff_sessions where token = :t", {"t": token})
    return None


def close_session(token: str) -> None:
    shared = _redis()
    if shared is not None:
        shared.delete(_session_key(token))
        return
    _sql("delete from staff_sessions where token = :t", {"t": token})


# --- conversations ended with 重新开始 --------------------------------------------------------------

def end_conversation(session: str) -> None:
    """Remember that a visitor ended this conversation: a copy of the old cookie no longer reaches it."""
    _sql("insert into ended_conversations (session, at) values (:s, :at) on conflict do nothing",
         {"s": session, "at": time.time()})


def conversation_ended(session: str) -> bool:
    return _sql("select 1 from ended_conversations where session = :s", {"s": session}).first() is not None
