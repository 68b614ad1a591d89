"""The SQL tracker store, with SQLite in WAL mode so a reader never makes turns fall back to memory."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore

BUSY_TIMEOUT_MS = 5000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class WalSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore; on SQLite, WAL journal and a busy timeout.

    Without WAL a staff member's open read made every turn wait 5 s, log "database is locked" and
    silently fall back to the in-memory store, losing the turn (../shared/reliability.md finding 6).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            self.engine.dispose()  # connections opened during start-up lack the pragmas
            with self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA journal_mode=WAL")
