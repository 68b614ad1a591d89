"""The SQL tracker store, with SQLite in WAL mode so a reader never makes turns fall back to memory,
and Rasa's two per-message queries made cheaper without changing what they return."""

from __future__ import annotations

import itertools
import json
from typing import Any, Iterator, Optional

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

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
        super().__init__(*args, **kwargs)
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

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> Optional[DialogueStateTracker]:
        with self.session_scope() as session:
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions)
            events = [json.loads(data) for (data,) in query.with_entities(self.SQLEvent.data)]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        query = self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False)
        stored = query.order_by(None).with_entities(sa.func.count(self.SQLEvent.id)).scalar()
        return itertools.islice(tracker.events, stored, len(tracker.events))
