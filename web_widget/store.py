"""The web app's own store, and every SQL statement on it: questions Yishi could not answer, rate-limit
counters, staff accounts (with their role), sessions, login throttling, the content log, the audit trail and
review labels.

Where it lives is a setting (yishi.db): the embedded profile's SQLite file YISHI_WEB_DB, or in the city profile
the PostgreSQL database of YISHI_DATABASE_URL, which every web worker on every host shares. With YISHI_REDIS_URL
set, rate-limit counters and staff sessions live in Redis instead (they expire by themselves there).

The tables are created once per process start (create_app calls init_app), or by `init_db`, which also adds the
columns a table made by an older version lacks (`migrate`); then one pooled
connection per request in `g`, in autocommit mode, returned on teardown; `writing()` makes a block one write
transaction that other workers wait for.
"""

from __future__ import annotations

import datetime as dt
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

from . import ratings as rating_rules

META = sa.MetaData()
sa.Table("unanswered", META, sa.Column("id", sa.Integer, primary_key=True), sa.Column("at", sa.Float, nullable=False),
         sa.Column("session", sa.Text, nullable=False), sa.Column("text", sa.Text, nullable=False),
         sa.Column("reason", sa.Text, nullable=False), sa.Index("unanswered_at", "at"))
sa.Table("hits", META, sa.Column("key", sa.String(255), nullable=False), sa.Column("at", sa.Float, nullable=False),
         sa.Index("hits_key_at", "key", "at"))
sa.Table("ended_conversations", META, sa.Column("session", sa.String(255), primary_key=True),
         sa.Column("at", sa.Float, nullable=False))
sa.Table("staff", META, sa.Column("username", sa.String(64), primary_key=True),
         sa.Column("password_hash", sa.Text, nullable=False), sa.Column("created", sa.Float, nullable=False),
         # added with roles (issue 16): accounts made before are administrators, so a deployment keeps working
         sa.Column("role", sa.String(32), nullable=False, server_default="admin"),
         sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
         sa.Column("password_changed", sa.Float))
sa.Table("staff_sessions", META, sa.Column("token", sa.String(255), primary_key=True),
         sa.Column("username", sa.String(64), nullable=False), sa.Column("csrf", sa.String(255), nullable=False),
         sa.Column("created", sa.Float, nullable=False), sa.Column("seen", sa.Float, nullable=False))
# login throttling: one row per (account, address) pair and per address (staff/auth.py decides the policy)
sa.Table("login_throttle", META, sa.Column("subject", sa.String(400), primary_key=True),
         sa.Column("tries", sa.Integer, nullable=False), sa.Column("blocked_until", sa.Float, nullable=False),
         sa.Column("last_try", sa.Float, nullable=False))
sa.Table("content_log", META, sa.Column("id", sa.Integer, primary_key=True), sa.Column("at", sa.Float, nullable=False),
         sa.Column("username", sa.String(64), nullable=False), sa.Column("action", sa.String(64), nullable=False),
         sa.Column("kind", sa.String(64)), sa.Column("record", sa.String(255)), sa.Column("detail", sa.Text, nullable=False))
sa.Table("audit_log", META, sa.Column("id", sa.Integer, primary_key=True), sa.Column("at", sa.Float, nullable=False),
         sa.Column("username", sa.String(64), nullable=False), sa.Column("action", sa.String(64), nullable=False),
         sa.Column("target", sa.String(255)), sa.Column("detail", sa.Text, nullable=False),
         sa.Column("before", sa.Text), sa.Column("after", sa.Text), sa.Index("audit_log_at", "at"),
         sa.Index("audit_log_username", "username"))
sa.Table("review_labels", META, sa.Column("id", sa.Integer, primary_key=True), sa.Column("at", sa.Float, nullable=False),
         sa.Column("username", sa.String(64), nullable=False), sa.Column("event_id", sa.BigInteger, nullable=False),
         sa.Column("sender", sa.String(255), nullable=False), sa.Column("text", sa.Text, nullable=False),
         sa.Column("intent", sa.String(255), nullable=False))
# 好差评 (web_widget.ratings): the bundles each conversation was answered with (what a citizen may rate), one rating
# per (conversation, bundle) with the follow-up of a 差评, and the per-day counts of ratings retention purged
sa.Table("bundle_answers", META, sa.Column("conversation", sa.String(255), primary_key=True),
         sa.Column("bundle", sa.String(255), primary_key=True), sa.Column("at", sa.Float, nullable=False),
         sa.Index("bundle_answers_at", "at"))
sa.Table("ratings", META, sa.Column("id", sa.Integer, primary_key=True), sa.Column("at", sa.Float, nullable=False),
         sa.Column("conversation", sa.String(255), nullable=False), sa.Column("bundle", sa.String(255), nullable=False),
         sa.Column("level", sa.SmallInteger, nullable=False), sa.Column("reasons", sa.Text, nullable=False),
         sa.Column("text", sa.Text, nullable=False), sa.Column("opened", sa.Float), sa.Column("status", sa.String(16)),
         sa.Column("owner", sa.String(64)), sa.Column("status_at", sa.Float), sa.Column("note", sa.Text),
         sa.UniqueConstraint("conversation", "bundle", name="ratings_one_per_bundle"), sa.Index("ratings_at", "at"),
         sa.Index("ratings_status", "status"))
sa.Table("rating_daily", META, sa.Column("day", sa.String(10), primary_key=True),
         sa.Column("bundle", sa.String(255), primary_key=True), sa.Column("level", sa.SmallInteger, primary_key=True),
         sa.Column("count", sa.Integer, nullable=False))


def init_db(place: str | Path) -> None:
    """Create the store's tables (idempotent); a SQLite file is made and put in WAL mode, once, here."""
    sqlite = databases.sqlite_file(place)
    if sqlite is not None:
        sqlite.parent.mkdir(parents=True, exist_ok=True)
        databases.ensure_wal(databases.engine(place))
    with databases.writing(place, "yishi-web-schema") as connection:
        META.create_all(connection)
        migrate(connection)


def migrate(connection: Connection) -> list[str]:
    """Add the columns of META that a table made by an older version lacks (create_all adds none), with their
    defaults: `alter table … add column`, each column here having a server default or allowing null; and the
    indexes it lacks. The columns added, as "table.column"."""
    added = []
    inspector = sa.inspect(connection)
    for table in META.sorted_tables:
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            if not column.nullable and column.server_default is None:
                raise RuntimeError(f"{table.name}.{column.name}: a new column needs a server default or null")
            ddl = sa.schema.CreateColumn(column).compile(dialect=connection.dialect)
            connection.exec_driver_sql(f"alter table {table.name} add column {ddl}")
            added.append(f"{table.name}.{column.name}")
        indexes = {i["name"] for i in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in indexes:
                index.create(connection)
    return added


def _sql(statement: str, params: dict | None = None) -> sa.engine.CursorResult:
    return connection().execute(databases.text(statement), params or {})


def connection() -> Connection:
    """This request's connection (autocommit), checked out of the pool on first use."""
    if "web_db" not in g:
        g.web_db_context = databases.connect(current_app.config["WEB_DB"])
        g.web_db = g.web_db_context.__enter__()
    return g.web_db


def release() -> None:
    """Give this request's connection back to the pool before waiting on something else (Rasa, a model load): a
    worker's threads far outnumber the pool's connections. The next statement checks one out again."""
    close()


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


# Redis: for every key drop the hits older than the window; refuse when any key is at its limit, else count this hit
# on every key; atomic in one script. ARGV: now, window, a unique member, then each key's limit
_ALLOW = """
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  redis.call('zremrangebyscore', key, '-inf', now - window)
  if redis.call('zcard', key) >= tonumber(ARGV[3 + i]) then return 0 end
end
for _, key in ipairs(KEYS) do
  redis.call('zadd', key, now, ARGV[3])
  redis.call('expire', key, math.ceil(window))
end
return 1
"""


# Hits older than the window are not counted; this process deletes them every this many seconds. Deleting them on
# every message scanned the whole table (no index on `at` alone) while holding the write lock (issue 13).
HITS_PURGE_EVERY_S = 10.0
_hits_purged = [0.0]  # when this process last deleted old hits


def allow_all(limits: list[tuple[str, int]], window_s: float = 60.0) -> bool:
    """One hit on several keys at once (a chat message: its session's and its address's), in one transaction:
    False, counting nothing, when any key already had its limit of hits in the window."""
    now = time.time()
    shared = _redis()
    if shared is not None:
        keys = [f"yishi:hits:{key}" for key, _ in limits]
        return shared.eval(_ALLOW, len(keys), *keys, now, window_s, uuid.uuid4().hex,
                           *(limit for _, limit in limits)) == 1
    with writing("yishi-web-hits"):
        if now - _hits_purged[0] >= HITS_PURGE_EVERY_S:
            _sql("delete from hits where at < :old", {"old": now - window_s})
            _hits_purged[0] = now
        for key, limit in limits:
            if _sql("select count(*) from hits where key = :key and at >= :old",
                    {"key": key, "old": now - window_s}).scalar_one() >= limit:
                return False
        for key, _ in limits:
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


def _audit_where(username: str | None, action: str | None, start: float | None, end: float | None
                 ) -> tuple[str, dict]:
    where, params = [], {}
    for column, value, test in (("username", username, "="), ("action", action, "="), ("at", start, ">="),
                                ("at", end, "<")):
        if value:
            name = f"p{len(params)}"
            where.append(f"{column} {test} :{name}")
            params[name] = value
    return ("where " + " and ".join(where)) if where else "", params


def audit_log(limit: int = 100, username: str | None = None, action: str | None = None, start: float | None = None,
              end: float | None = None, offset: int = 0) -> list[dict]:
    """The audited actions, newest first, optionally of one user, one kind of action, at or after start and
    before end (timestamps); one page of them: limit rows after offset."""
    condition, params = _audit_where(username, action, start, end)
    params |= {"limit": limit, "offset": offset}
    return [dict(r._mapping) for r in _sql(f"select id, at, username, action, target, detail, before, after "  # noqa: S608
                                            f"from audit_log {condition} order by id desc limit :limit offset :offset",
                                            params)]


def audit_count(username: str | None = None, action: str | None = None, start: float | None = None,
                end: float | None = None) -> int:
    """How many audited actions match these filters (as audit_log)."""
    condition, params = _audit_where(username, action, start, end)
    return _sql(f"select count(*) from audit_log {condition}", params).scalar_one()  # noqa: S608


def audit_choices() -> tuple[list[str], list[str]]:
    """The users and the kinds of action the audit trail holds (for the console's filters)."""
    users = [r[0] for r in _sql("select distinct username from audit_log order by username")]
    actions = [r[0] for r in _sql("select distinct action from audit_log order by action")]
    return users, actions


def content_log(limit: int = 20) -> list[dict]:
    """The latest content changes, newest first."""
    return [dict(r._mapping) for r in _sql("select at, username, action, kind, record, detail from content_log "
                                            "order by id desc limit :limit", {"limit": limit})]


# --- staff accounts, sessions and login throttling ------------------------------------------

STAFF_COLUMNS = "username, role, disabled, created, password_changed"


def _account(row: Any) -> dict:
    account = dict(row._mapping)
    account["disabled"] = bool(account["disabled"])
    return account


def staff_exists(username: str) -> bool:
    return _sql("select 1 from staff where username = :u", {"u": username}).first() is not None


def staff_account(username: str) -> dict | None:
    """One account (username, role, disabled, created, password_changed), or None; never the password hash."""
    row = _sql(f"select {STAFF_COLUMNS} from staff where username = :u", {"u": username}).first()  # noqa: S608
    return _account(row) if row else None


def staff_accounts() -> list[dict]:
    return [_account(r) for r in _sql(f"select {STAFF_COLUMNS} from staff order by username")]  # noqa: S608


def add_staff(username: str, password_hash: str, role: str) -> None:
    _sql("insert into staff (username, password_hash, created, role, disabled, password_changed) "
         "values (:u, :h, :at, :role, :off, :at)",
         {"u": username, "h": password_hash, "at": time.time(), "role": role, "off": False})


def password_hash(username: str) -> str | None:
    row = _sql("select password_hash from staff where username = :u", {"u": username}).first()
    return row[0] if row else None


def set_password_hash(username: str, password_hash: str) -> None:
    _sql("update staff set password_hash = :h, password_changed = :at where username = :u",
         {"h": password_hash, "at": time.time(), "u": username})


def set_role(username: str, role: str) -> None:
    _sql("update staff set role = :role where username = :u", {"role": role, "u": username})


def set_disabled(username: str, disabled: bool) -> None:
    _sql("update staff set disabled = :d where username = :u", {"d": disabled, "u": username})


def remove_staff(username: str) -> None:
    _sql("delete from staff where username = :u", {"u": username})


def active_admins() -> int:
    """Accounts that can still manage accounts: administrators not disabled."""
    return _sql("select count(*) from staff where role = 'admin' and not disabled").scalar_one()


def take_login_try(limits: list[tuple[str, int, float, float]], forget_s: float) -> float:
    """Decide whether a login may be tried, and count it, in one write transaction. limits are (subject, free
    tries, first block in seconds, longest block). While any subject is blocked nothing is counted and the seconds
    to wait are returned; else every subject counts one more try and 0 is returned. The try is counted before the
    password is checked (outside the transaction: the slow hash holds no lock), so parallel tries cannot slip past
    the count. Once a subject's tries reach its free tries, each try blocks it for the first block, doubled for
    every further try, at most the longest. A subject with no try for forget_s seconds and not blocked is forgotten."""
    now = time.time()
    with writing("yishi-login"):
        _sql("delete from login_throttle where last_try < :old and blocked_until < :now",
             {"old": now - forget_s, "now": now})
        statement = sa.text("select subject, tries, blocked_until from login_throttle where subject in :subjects"
                            ).bindparams(sa.bindparam("subjects", expanding=True))
        found = {r[0]: (r[1], r[2]) for r in connection().execute(statement, {"subjects": [s for s, *_ in limits]})}
        wait = max((blocked - now for _, blocked in found.values()), default=0.0)
        if wait > 0:
            return wait
        for subject, free, first_s, longest_s in limits:
            tries = found.get(subject, (0, 0.0))[0] + 1
            blocked = now + min(first_s * 2 ** min(tries - free, 30), longest_s) if tries >= free else 0.0
            values = {"s": subject, "t": tries, "b": blocked, "now": now}
            if subject in found:
                _sql("update login_throttle set tries = :t, blocked_until = :b, last_try = :now where subject = :s",
                     values)
            else:
                _sql("insert into login_throttle (subject, tries, blocked_until, last_try) values (:s, :t, :b, :now)",
                     values)
    return 0.0


def login_succeeded(forget: str, refund: list[tuple[str, int]]) -> None:
    """A right password: forget this subject's tries, and give back the try counted on each (subject, free tries)
    of refund (unblocked when it is below its free tries again)."""
    with writing("yishi-login"):
        _sql("delete from login_throttle where subject = :s", {"s": forget})
        for subject, free in refund:
            _sql("update login_throttle set blocked_until = case when tries - 1 < :free then 0 else blocked_until end, "
                 "tries = tries - 1 where subject = :s and tries > 0", {"s": subject, "free": free})


def login_throttle(subject: str) -> dict | None:
    """What the throttle keeps of one subject (tries, blocked_until, last_try), or None."""
    row = _sql("select tries, blocked_until, last_try from login_throttle where subject = :s", {"s": subject}).first()
    return dict(row._mapping) if row else None


def _session_key(token: str) -> str:
    """Redis keeps a session under a hash of its token: the store never holds a cookie that would work."""
    return "yishi:staff_session:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


def _sessions_of(username: str) -> str:
    """Redis: the set of one account's session keys (hashes), so that disabling or removing it ends them all."""
    return "yishi:staff_sessions_of:" + username


def open_session(token: str, username: str, csrf: str, idle_s: float | None = None) -> None:
    now = time.time()
    shared = _redis()
    if shared is not None:
        key, index = _session_key(token), _sessions_of(username)
        gone = [k for k in shared.smembers(index) if not shared.exists(k)]  # sessions that expired meanwhile
        pipe = shared.pipeline()
        if gone:
            pipe.srem(index, *gone)
        pipe.hset(key, mapping={"username": username, "csrf": csrf, "created": now, "seen": now}) \
            .expire(key, int(idle_s or current_app.config["STAFF_IDLE_S"]) + 1) \
            .sadd(index, key).expire(index, int(current_app.config["STAFF_MAX_S"]) + 60).execute()
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
        shared.pipeline().delete(key).srem(_sessions_of(found["username"]), key).execute()
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
        key = _session_key(token)
        username = shared.hget(key, "username")
        pipe = shared.pipeline().delete(key)
        if username:
            pipe.srem(_sessions_of(username), key)
        pipe.execute()
        return
    _sql("delete from staff_sessions where token = :t", {"t": token})


def end_sessions(username: str, keep: str | None = None) -> int:
    """End every live session of an account (disabled, removed, its password changed) but the one of token keep;
    how many were ended."""
    shared = _redis()
    if shared is not None:
        index, kept = _sessions_of(username), _session_key(keep) if keep else None
        ended = [k for k in shared.smembers(index) if k != kept]
        if not ended:
            return 0
        return shared.pipeline().delete(*ended).srem(index, *ended).execute()[0]
    return _sql("delete from staff_sessions where username = :u and token != :keep",
                {"u": username, "keep": keep or ""}).rowcount


# --- conversations ended with 重新开始 --------------------------------------------------------------

def end_conversation(session: str) -> None:
    """Remember that a visitor ended this conversation: a copy of the old cookie no longer reaches it."""
    _sql("insert into ended_conversations (session, at) values (:s, :at) on conflict do nothing",
         {"s": session, "at": time.time()})


def conversation_ended(session: str) -> bool:
    return _sql("select 1 from ended_conversations where session = :s", {"s": session}).first() is not None


# --- 好差评: what was answered, the ratings and the follow-up of a 差评 ------------------------------------------

def note_bundle_answer(conversation: str, bundle: str) -> None:
    """Remember that this conversation was answered with this bundle's checklist (so it may be rated)."""
    _sql("insert into bundle_answers (conversation, bundle, at) values (:c, :b, :at) "
         "on conflict (conversation, bundle) do update set at = excluded.at", {"c": conversation, "b": bundle, "at": time.time()})


def bundle_answered(conversation: str, bundle: str) -> bool:
    return _sql("select 1 from bundle_answers where conversation = :c and bundle = :b",
                {"c": conversation, "b": bundle}).first() is not None


def save_rating(conversation: str, rating: rating_rules.Rating, now: float | None = None) -> int:
    """Keep a rating; a second one of the same (conversation, bundle) replaces the first. A 差评 that stays a 差评
    keeps its follow-up (owner, status, and the day it was opened, so its due date); one that becomes a good rating
    leaves the 差评 list (the audit trail keeps what staff did); a new 差评 starts 待处理."""
    now = time.time() if now is None else now
    values = {"c": conversation, "b": rating.bundle, "at": now, "level": rating.level,
              "reasons": ",".join(rating.reasons), "text": rating.text}
    with writing("yishi-web-ratings"):
        row = _sql("select id, opened from ratings where conversation = :c and bundle = :b", values).first()
        follow_up = {"opened": None, "status": None}
        if rating.poor:
            follow_up = {"opened": row[1], "status": None} if row is not None and row[1] is not None \
                else {"opened": now, "status": "pending"}
        if row is None:
            _sql("insert into ratings (at, conversation, bundle, level, reasons, text, opened, status) "
                 "values (:at, :c, :b, :level, :reasons, :text, :opened, :status)", values | follow_up)
            return _sql("select id from ratings where conversation = :c and bundle = :b", values).scalar_one()
        if follow_up["opened"] is None:  # a good rating now: no follow-up any more
            _sql("update ratings set at = :at, level = :level, reasons = :reasons, text = :text, opened = null, "
                 "status = null, owner = null, status_at = null, note = null where id = :id", values | {"id": row[0]})
        elif follow_up["status"] is None:  # still a 差评: the follow-up goes on
            _sql("update ratings set at = :at, level = :level, reasons = :reasons, text = :text where id = :id",
                 values | {"id": row[0]})
        else:
            _sql("update ratings set at = :at, level = :level, reasons = :reasons, text = :text, opened = :opened, "
                 "status = :status where id = :id", values | follow_up | {"id": row[0]})
        return row[0]


def ratings_of(conversation: str) -> dict[str, int]:
    """bundle → level of every rating of one conversation (the widget shows them again after a reload)."""
    return {r[0]: r[1] for r in _sql("select bundle, level from ratings where conversation = :c", {"c": conversation})}


_RATING_COLUMNS = "id, at, conversation, bundle, level, reasons, text, opened, status, owner, status_at, note"


def _rating_row(row) -> dict:
    found = dict(row._mapping)
    found["reasons"] = [r for r in found["reasons"].split(",") if r]
    return found


def poor_ratings() -> list[dict]:
    """Every 差评 with its follow-up, in no particular order (the console orders them by due date)."""
    return [_rating_row(r) for r in _sql(f"select {_RATING_COLUMNS} from ratings where opened is not null")]  # noqa: S608


def rating(rating_id: int) -> dict | None:
    row = _sql(f"select {_RATING_COLUMNS} from ratings where id = :id", {"id": rating_id}).first()  # noqa: S608
    return _rating_row(row) if row is not None else None


class FollowUpError(ValueError):
    """A change to a 差评's follow-up that cannot be made; the message is for staff."""


def assign_rating(rating_id: int, owner: str, username: str) -> None:
    """Make a staff member the owner of a 差评 (audited)."""
    with writing("yishi-web-ratings"):
        found = rating(rating_id)
        if found is None or found["opened"] is None:
            raise FollowUpError("没有找到这条差评。")
        if not staff_exists(owner):
            raise FollowUpError(f"没有这个工作人员账号：{owner or '（未填写）'}。")
        if found["owner"] == owner:
            return
        _sql("update ratings set owner = :owner where id = :id", {"owner": owner, "id": rating_id})
        audit(username, "rating_owner", f"rating:{rating_id}", f"负责人：{found['owner'] or '无'} → {owner}",
              {"owner": found["owner"]}, {"owner": owner})


def advance_rating(rating_id: int, to: str, note: str, username: str, now: float | None = None) -> None:
    """Move a 差评 one step forward (待处理 → 已整改 → 已回复), never back; audited with the note."""
    names = rating_rules.STATUSES
    with writing("yishi-web-ratings"):
        found = rating(rating_id)
        if found is None or found["opened"] is None:
            raise FollowUpError("没有找到这条差评。")
        if rating_rules.NEXT_STATUS.get(found["status"]) != to:
            raise FollowUpError(f"这条差评现在是“{names.get(found['status'], found['status'])}”，"
                                f"不能改为“{names.get(to, to)}”（状态只能按 待处理 → 已整改 → 已回复 向前推进）。请刷新页面后再看。")
        _sql("update ratings set status = :to, status_at = :at, note = :note where id = :id",
             {"to": to, "at": time.time() if now is None else now, "note": note or None, "id": rating_id})
        detail = f"{names[found['status']]} → {names[to]}" + (f"：{note}" if note else "")
        audit(username, "rating_status", f"rating:{rating_id}", detail, {"status": found["status"]},
              {"status": to, "note": note or None})


def rating_counts(start: float, end: float) -> list[rating_rules.Counted]:
    """(day, bundle, level, count) of the ratings made between two timestamps: those kept, and those retention
    purged (kept per day in rating_daily)."""
    counts: dict[tuple, int] = {}
    for at, bundle, level in _sql("select at, bundle, level from ratings where at >= :start and at < :end",
                                  {"start": start, "end": end}):
        key = (rating_rules.day_of(at), bundle, level)
        counts[key] = counts.get(key, 0) + 1
    first, last = rating_rules.day_of(start).isoformat(), rating_rules.day_of(end - 1).isoformat()
    for day, bundle, level, n in _sql("select day, bundle, level, count from rating_daily where day >= :first and day <= :last",
                                      {"first": first, "last": last}):
        key = (dt.date.fromisoformat(day), bundle, level)
        counts[key] = counts.get(key, 0) + n
    return [(day, bundle, level, n) for (day, bundle, level), n in sorted(counts.items())]


def staff_usernames() -> list[str]:
    """Every staff account's username (who a 差评 can be assigned to)."""
    return [r[0] for r in _sql("select username from staff order by username")]
