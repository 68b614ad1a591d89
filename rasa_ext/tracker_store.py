"""The SQL tracker store, with SQLite in WAL mode so a reader never makes turns fall back to memory,
Rasa's two per-message queries made cheaper without changing what they return, the console's
summary tables (yishi/summaries.py) kept in the same transaction as the events they summarise, and
bundle answers stored as references (yishi/lean.py): the citizen got the whole checklist already."""

from __future__ import annotations

import itertools
import json
import logging
import sqlite3
from typing import Any, Iterator, Optional

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

from catalogue import config as catalogue_config
from catalogue.live import LiveCatalogue
from yishi import lean, settings, summaries

BUSY_TIMEOUT_MS = 5000


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
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        host = kwargs.get("host")
        if isinstance(host, str) and "://" in host:  # the city profile: `url: ${YISHI_DATABASE_URL}`
            kwargs.update(database_arguments(host))
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "postgresql":
            # a connection PostgreSQL dropped (a restart) is noticed and replaced before use, so a restarted
            # database costs the turns made while it was down, not every turn after it (tests/e2e/test_city.py)
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        if self.engine.dialect.name == "sqlite":
            # SQLAlchemy 1.4 opens and closes a new SQLite connection for every session (NullPool):
            # four times a message, each with its pragmas. A small pool keeps them open. Rasa's
            # server uses them from its one event-loop thread; the flag only lets the pool hand
            # a connection to another thread should that ever happen.
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(url, poolclass=sa.pool.QueuePool, pool_size=2, max_overflow=8,
                                           connect_args={"check_same_thread": False})
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
            with self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA journal_mode=WAL")
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
        with self.session_scope() as session:
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions)
            events = [json.loads(data) for (data,) in query.with_entities(self.SQLEvent.data)]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa 3.6's SQLTrackerStore.save, storing bundle answers as references (yishi.lean.compact) and
        the JSON as UTF-8 rather than ASCII escapes (what is read back is the same), with the console's
        summaries of the new events in the same transaction."""
        await self.stream_events(tracker)
        build = self._build()
        with self.session_scope() as session:
            new = list(self._additional_events(session, tracker))
            stored = [event.as_dict() for event in new]
            summaries.record(summaries.Sql(session), tracker.sender_id, stored)
            for event, whole in zip(new, stored, strict=True):
                data = lean.compact(whole, build)
                session.add(self.SQLEvent(
                    sender_id=tracker.sender_id, type_name=event.type_name, timestamp=data.get("timestamp"),
                    intent_name=data.get("parse_data", {}).get("intent", {}).get("name"), action_name=data.get("name"),
                    data=json.dumps(data, ensure_ascii=False)))  # UTF-8: a Chinese character in 3 bytes, not 6
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
        query = self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False)
        stored = query.order_by(None).with_entities(sa.func.count(self.SQLEvent.id)).scalar()
        return itertools.islice(tracker.events, stored, len(tracker.events))


def database_arguments(url: str) -> dict[str, Any]:
    """SQLTrackerStore's arguments for a database URL (postgresql://user@host:port/db); the password comes from
    YISHI_DATABASE_PASSWORD, never from a file or a log."""
    parts = sa.engine.make_url(url)
    return {"dialect": parts.drivername, "host": parts.host, "port": parts.port, "db": parts.database,
            "username": parts.username, "password": settings.text("YISHI_DATABASE_PASSWORD") or parts.password}
