"""The SQL tracker store, with SQLite in WAL mode so a reader never makes turns fall back to memory,
Rasa's two per-message queries made cheaper without changing what they return, the console's
summary tables (yishi/summaries.py) kept in the same transaction as the events they summarise, and
bundle answers stored as references (yishi/lean.py): the citizen got the whole checklist already; and a
turn's tracker built from the session's last few turns only (WalSQLTrackerStore's window)."""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import json
import logging
import sqlite3
import time
from typing import Any, Iterator, Optional

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

from catalogue import config as catalogue_config
from catalogue.live import LiveCatalogue
from yishi import lean, settings, summaries
from yishi.db import ensure_wal, tracker_session_options

BUSY_TIMEOUT_MS = 5000

# A windowed tracker holds only part of its session: the number of its events the database already holds (save
# stores the rest), set on the tracker object the turn retrieved and then saves.
BUILT_FROM = "_yishi_built_from"
# Events of the omitted turns that leave no trace in the tracker's state once later turns replaced the latest message
# and the latest action, or whose trace is reduced (slots: their values at the window's start).
OMITTABLE = frozenset({"user", "bot", "action", "user_featurization", "slot", "reset_slots"})
# Events that undo earlier ones (UserUtteranceReverted, ActionReverted): they may reach before any window.
REWRITING = frozenset({"rewind", "undo"})
# Events that set the state a window starts from.
STATE = frozenset({"session_started", "slot", "reset_slots"})

EXPIRY_MARGIN_S = 60  # a turn takes well under a second

# Set while MessageProcessor.handle_message runs (install()): only then may a read be windowed.
in_turn: contextvars.ContextVar[bool] = contextvars.ContextVar("yishi_in_turn", default=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class WalSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore; on SQLite, WAL journal and a busy timeout.

    Without WAL a staff member's open read made every turn wait 5 s, log "database is locked" and
    silently fall back to the in-memory store, losing the turn (measured); with WAL the same test
    stored every turn (tests/e2e/test_reliability.py).

    Rasa 3.6 also runs the same two queries for every message: it loads the conversation as ORM objects
    (every column of every event), and counts the stored events with `Query.count()`, which wraps
    that whole select, event JSON included, in a subquery. Under 20 users the two were about a sixth
    of the Rasa server's CPU (py-spy, bench/chat_bench.py). Both keep Rasa's own filter (this
    conversation, from its latest session start) and ordering; they only select less.

    Rasa also builds the whole session into a tracker on every turn, replays it, and RulePolicy computes the state
    after every action of it for each prediction: a turn cost more the longer the conversation. A turn (a message
    from a channel, see install()) reads a window instead: the slots as they were, then the last YISHI_TRACKER_WINDOW
    user messages (_turn_events: a few Core statements, each returning a few rows whatever the session's length), and
    save() stores what the turn added after the events it was built from.
    Every other read (the HTTP API's tracker, the console's, exports) gets the whole history as before.
    """

    def __init__(self, *args: Any, window: int | None = None, **kwargs: Any) -> None:
        self.window = settings.integer("YISHI_TRACKER_WINDOW") if window is None else int(window)
        host = kwargs.get("host")
        if isinstance(host, str) and "://" in host:  # the city profile: `url: ${YISHI_DATABASE_URL}`
            kwargs.update(database_arguments(host))
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "postgresql":
            # a connection PostgreSQL dropped (a restart) is noticed and replaced before use, so a restarted
            # database costs the turns made while it was down, not every turn after it (tests/e2e/test_city.py);
            # a session idle in a transaction is ended by PostgreSQL (yishi/db.py: IDLE_IN_TRANSACTION_MS)
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10,
                                           connect_args=tracker_session_options())
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        if self.engine.dialect.name == "sqlite":
            # SQLAlchemy 1.4 opens and closes a new SQLite connection for every session (NullPool):
            # four times a message, each with its pragmas. A small pool keeps them open. Reads and
            # saves use them from worker threads (_read, _store), one thread at a time each: the
            # flag lets the pool hand a connection from one thread to another.
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(url, poolclass=sa.pool.QueuePool, pool_size=2, max_overflow=8,
                                           connect_args={"check_same_thread": False})
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
            ensure_wal(self.engine)  # two servers starting together: one waits for the other's switch
        self._prepare_summaries()

    def _prepare_summaries(self) -> None:
        """Create the summary tables; fill them from the stored events when they are new or their VERSION
        changed. Two servers starting together: the second waits for the first's write lock, then finds
        the tables current. On SQLite this uses a connection of its own (a long lock wait, outside the pool)."""
        stored = "select sender_id, data from events where type_name in ('user', 'bot') order by sender_id, id"
        if self.engine.dialect.name != "sqlite":
            with self.engine.begin() as connection:
                if self.engine.dialect.name == "postgresql":  # two servers starting together: one at a time
                    connection.execute(sa.text("select pg_advisory_xact_lock(20261202)"))
                db = summaries.Sql(connection)
                summaries.create(db)
                if not summaries.is_current(db):
                    summaries.rebuild(db, [tuple(row) for row in connection.execute(sa.text(stored))], json.loads)
            return
        connection = sqlite3.connect(self.engine.url.database, timeout=120, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            db = summaries.DbApi(connection)
            summaries.create(db)
            if not summaries.is_current(db):
                reader = connection.cursor()
                reader.execute(stored)
                summaries.rebuild(db, iter(reader.fetchone, None), json.loads)
            connection.execute("COMMIT")
        finally:
            connection.close()

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> Optional[DialogueStateTracker]:
        turn = in_turn.get() and not fetch_events_from_all_sessions
        events = await asyncio.to_thread(self._read, sender_id, fetch_events_from_all_sessions, turn)
        if self.domain and events:
            tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
            if turn:  # the turn's save stores what comes after these (a whole session's too: no count query)
                setattr(tracker, BUILT_FROM, len(tracker.events))
            return tracker
        return None

    def _read(self, sender_id: str, fetch_events_from_all_sessions: bool, turn: bool) -> list[dict]:
        """The stored events a tracker is built from (in a worker thread: see save)."""
        if turn:
            return self._turn_events(sender_id)
        with self.session_scope() as session:
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions)
            return [json.loads(data) for (data,) in query.with_entities(self.SQLEvent.data)]

    def _statements(self) -> dict[str, Any]:
        """A turn's reads as Core statements over the latest session as Rasa's _event_query selects it (this
        conversation, from the timestamp of its latest session start), built once (SQLAlchemy caches their compiled
        form). Each returns a few rows whatever the session's length, but the window's events: through the ORM, a
        turn's four or five queries cost more to build than to run (py-spy: 3 ms of a message), and a read of every
        row of the session made a turn slower the longer the conversation."""
        if not hasattr(self, "_turn_statements"):
            events = self.SQLEvent.__table__
            sender = sa.bindparam("sender")
            start = sa.select(sa.func.max(events.c.timestamp)).where(
                events.c.sender_id == sender, events.c.type_name == "session_started").scalar_subquery()
            session = sa.and_(events.c.sender_id == sender, sa.or_(events.c.timestamp >= start, start.is_(None)))
            before = events.c.id < sa.bindparam("before")
            self._turn_statements = {
                # the latest user messages, the latest first
                "users": sa.select(events.c.id, events.c.timestamp).where(session, events.c.type_name == "user")
                .order_by(events.c.id.desc()).limit(sa.bindparam("count")),
                # the event before an id
                "previous": sa.select(events.c.id, events.c.type_name).where(session, before)
                .order_by(events.c.id.desc()).limit(1),
                # each type of event in the session: its first id, how many, how many before an id
                "types": sa.select(events.c.type_name, sa.func.min(events.c.id), sa.func.count(),
                                   sa.func.sum(sa.case((before, 1), else_=0))).where(session)
                .group_by(events.c.type_name),
                # the events a window's state is made of, before an id
                "state": sa.select(events.c.data).where(session, before, events.c.type_name.in_(sorted(STATE)))
                .order_by(events.c.id),
                # every event from an id on
                "from": sa.select(events.c.data).where(session, events.c.id >= sa.bindparam("first"))
                .order_by(events.c.id),
                # user messages before an id, the latest first
                "typed": sa.select(events.c.id, events.c.data).where(session, before, events.c.type_name == "user")
                .order_by(events.c.id.desc()),
            }
        return self._turn_statements

    def _turn_events(self, sender_id: str) -> list[dict]:
        """The events a turn's tracker is built from: the latest session, or a window of it (_window_start): the
        session's start, the slots as they were before the window (each slot's latest SlotSet since the latest
        AllSlotsReset), then every event of the window. The window reaches further back to the latest user message
        that is not a /payload when it holds none (the actions read the latest typed text: actions/conversation.py)."""
        statements = self._statements()
        with self.session_scope() as session:
            connection = session.connection()

            def run(name: str, **values: Any) -> Any:
                return connection.execute(statements[name], {"sender": sender_id, **values})

            def events_from(first: int) -> list[dict]:
                return [json.loads(data) for (data,) in run("from", first=first)]

            cut = self._window_start(run) if self.window > 0 else None
            if cut is None:
                return events_from(-1)
            window = events_from(cut)
            if not any(_typed(event) for event in window if event.get("event") == "user"):
                typed = next((event_id for event_id, data in run("typed", before=cut) if _typed(json.loads(data))),
                             None)
                if typed is not None:
                    cut = _cut(run, typed)
                    window = events_from(cut)
            head: list[dict] = []
            slots: dict[str, dict] = {}
            for (data,) in run("state", before=cut):
                event = json.loads(data)
                if event.get("event") == "slot":
                    slots.pop(event.get("name"), None)
                    slots[event.get("name")] = event
                else:  # the session's start or AllSlotsReset: every slot back at its initial value
                    slots.clear()
                    if event.get("event") == "session_started":
                        head = [event]
        return head + list(slots.values()) + window

    def _window_start(self, run: Any) -> Optional[int]:
        """The id a turn's window starts at when the session has more than `window` user messages: the action before
        the first of its last `window` user messages. None (read the whole session) when the window would omit
        nothing, an omitted event could leave more in the tracker's state than its slots, an event undoes earlier
        ones, or this turn may start a new session.

        The states RulePolicy matches its rules against then start later in the conversation; its rules are one
        user turn long (tests/rasa_ext check the trained model), so every prediction stays the same."""
        users = run("users", count=self.window + 1).all()
        if len(users) <= self.window or self._may_expire(users[0][1]):
            return None
        cut = _cut(run, users[self.window - 1][0])
        types = run("types", before=cut).all()  # (type, first id, count, count before the cut)
        if REWRITING.intersection(row[0] for row in types):
            return None
        first = min(types, key=lambda row: row[1])[0]
        if first not in OMITTABLE | {"session_started"}:
            return None
        for type_name, _, _, earlier in types:
            if earlier and type_name not in OMITTABLE and not (type_name == first and earlier == 1):
                return None
        return cut

    def _may_expire(self, latest_user_message: Optional[float]) -> bool:
        """Whether this turn may start a new session (MessageProcessor._has_session_expired, a minute early). Its
        action_session_start carries over every SlotSet event of the session, not only the latest of each slot: such a
        turn reads the whole session, so that it stores what Rasa stores."""
        config = self.domain.session_config if self.domain else None
        if config is None or not config.are_sessions_enabled() or latest_user_message is None:
            return False
        return time.time() - latest_user_message > config.session_expiration_time * 60 - EXPIRY_MARGIN_S

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa 3.6's SQLTrackerStore.save, storing bundle answers as references (yishi.lean.compact) and
        the JSON as UTF-8 rather than ASCII escapes (what is read back is the same), with the console's
        summaries of the new events in the same transaction."""
        await self.stream_events(tracker)
        build = self._build()
        await asyncio.to_thread(self._store, tracker, build)
        if hasattr(tracker, BUILT_FROM):  # saved again (a second save in one turn): only what is newer still
            setattr(tracker, BUILT_FROM, len(tracker.events))

    def _store(self, tracker: DialogueStateTracker, build: str | None) -> None:
        """Save's database work, in a worker thread like every read: Rasa's server runs every turn on one event loop,
        and a query or commit waited on there (a disk's flush, SQLite's busy wait, a database on another host) stops
        every other turn and the health check with it (under load a busy server has missed HAProxy's check:
        deploy/haproxy.cfg). Rasa's lock store keeps one turn at a time per conversation."""
        with self.session_scope() as session:
            new = list(self._additional_events(session, tracker))
            stored = [event.as_dict() for event in new]
            # the session's connection: its transaction, without the ORM's handling of each statement
            summaries.record(summaries.Sql(session.connection()), tracker.sender_id, stored)
            rows = []
            for event, whole in zip(new, stored, strict=True):
                data = lean.compact(whole, build)
                rows.append({
                    "sender_id": tracker.sender_id, "type_name": event.type_name, "timestamp": data.get("timestamp"),
                    "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
                    "action_name": data.get("name"),
                    "data": json.dumps(data, ensure_ascii=False)})  # UTF-8: a Chinese character in 3 bytes, not 6
            if rows:  # one INSERT run for every row, in order, without the ORM's unit of work (issue 13)
                session.connection().execute(self.SQLEvent.__table__.insert(), rows)
            session.commit()

    def _build(self) -> str | None:
        """The catalogue build the answers of this turn came from (its build time), if there is one. A
        catalogue that cannot be read never costs a turn: the reference is stored without its build."""
        try:
            if not hasattr(self, "_catalogue"):
                self._catalogue = LiveCatalogue(catalogue_config.db_path())
            return self._catalogue.meta().get("built_at")
        except Exception:  # noqa: BLE001 - any failure here must not lose the turn being saved
            logging.getLogger(__name__).warning("catalogue build unknown; bundle answers stored without it",
                                                exc_info=True)
            return None

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        """The tracker's events the database does not hold yet. A turn's tracker (see _retrieve) knows how many of
        its events came from the database; any other holds the whole session, whose stored events are counted (Rasa's
        way)."""
        stored = getattr(tracker, BUILT_FROM, None)
        if stored is None:
            query = self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False)
            stored = query.order_by(None).with_entities(sa.func.count(self.SQLEvent.id)).scalar()
        return itertools.islice(tracker.events, stored, len(tracker.events))


def _cut(run: Any, user: int) -> int:
    """Where a window starting with the user message `user` (an id) begins: at the action before it (action_listen),
    so that the message's state has its previous action as in the whole session."""
    previous = run("previous", before=user).first()
    return previous[0] if previous is not None and previous[1] == "action" else user


def _typed(event: dict) -> bool:
    """A user event whose text is not a /payload (a button's, or an intent sent as such)."""
    text = event.get("text")
    return not (isinstance(text, str) and text.startswith("/"))


def install() -> None:
    """Let MessageProcessor.handle_message (a message from a channel: REST, socket.io) read windowed trackers; every
    other read (the HTTP API's /tracker, /story, /messages, /execute, trigger_intent, exports) reads whole
    sessions (idempotent)."""
    from rasa.core.processor import MessageProcessor

    handle = MessageProcessor.handle_message
    if getattr(handle, "_yishi_windowed", False):
        return

    async def handle_message(self: MessageProcessor, message: Any) -> Any:
        token = in_turn.set(True)
        try:
            return await handle(self, message)
        finally:
            in_turn.reset(token)

    handle_message._yishi_windowed = True  # type: ignore[attr-defined]
    MessageProcessor.handle_message = handle_message  # type: ignore[method-assign]


def database_arguments(url: str) -> dict[str, Any]:
    """SQLTrackerStore's arguments for a database URL (postgresql://user@host:port/db); the password comes from
    YISHI_DATABASE_PASSWORD, never from a file or a log."""
    parts = sa.engine.make_url(url)
    return {"dialect": parts.drivername, "host": parts.host, "port": parts.port, "db": parts.database,
            "username": parts.username, "password": settings.text("YISHI_DATABASE_PASSWORD") or parts.password}
