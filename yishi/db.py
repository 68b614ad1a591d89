"""The SQL databases Yishi reads and writes itself (the web app's store, the console's view of the tracker store,
retention), reached one way in both profiles: SQLAlchemy Core on a SQLite file (embedded) or PostgreSQL (city).

A database is named by a path (a SQLite file) or a SQLAlchemy URL. Engines are made once per process and URL.
Statements are plain SQL with named parameters (`:name`) that both dialects accept; where they differ (reading
a field of Rasa's JSON `data`, taking a lock) the helpers here say how.

`connect` gives a connection on which each statement is its own short transaction (SQLite's driver in its
autocommit mode; PostgreSQL's connection in AUTOCOMMIT), so nobody holds a transaction open while waiting on
something else. `writing` takes a connection of its own for one write transaction that other writers wait for:
SQLite's BEGIN IMMEDIATE, or in PostgreSQL a transaction holding an advisory lock on the given name (the same
name serialises the same kind of work across every web worker on every host).
"""

from __future__ import annotations

import functools
import os
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

_engines: dict[tuple[str, bool], Engine] = {}
_lock = threading.Lock()

# The Rasa servers' PostgreSQL sessions (rasa_ext/tracker_store.py): a transaction of theirs that sits idle this long
# belongs to a server that stopped between two statements (frozen, swapped out: a turn's save takes milliseconds).
# PostgreSQL then ends that session, so the row locks of its half-saved turn do not hold the conversation's next turn
# on the server it moved to; the stopped server's late save fails instead of landing after turns that followed it.
# Measured: a server frozen mid-save held the next turn on the healthy one until it ran again (tests/e2e/test_city.py).
IDLE_IN_TRANSACTION_MS = 2000


def tracker_session_options() -> dict[str, str]:
    """psycopg2 connect arguments of the Rasa servers' PostgreSQL sessions."""
    return {"options": f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_MS}"}


def url_of(place: str | Path, read_only: bool = False) -> str:
    """A SQLAlchemy URL for a path or URL (a path is a SQLite file; read_only opens it with mode=ro)."""
    text = str(place)
    if "://" in text:
        return text
    return _sqlite_url(text, read_only, os.getcwd())


@functools.lru_cache(maxsize=64)
def _sqlite_url(path: str, read_only: bool, cwd: str) -> str:
    """Resolving a path reads every folder of it (realpath): 0.4 ms of every chat message, which checks out a
    connection several times (py-spy, issue 13). The working directory is part of the key, as a relative path
    depends on it."""
    file = Path(cwd, path).resolve()
    return f"sqlite:///file:{file}?mode=ro&uri=true" if read_only else f"sqlite:///{file}"


@functools.lru_cache(maxsize=1024)
def text(statement: str) -> sa.TextClause:
    """sa.text(statement), made once per statement: building it parses the statement for its parameters (0.4 ms of
    a chat message's few statements, py-spy, issue 13). A TextClause is not changed by executing it."""
    return sa.text(statement)


WAL_WAIT_S = 10.0


def ensure_wal(made: Engine) -> None:
    """Put a SQLite database in WAL mode. Processes that start together (gunicorn's workers making the web app; the
    Rasa servers on one tracker store) each do this: switching the journal mode needs the file to itself, and SQLite
    answers "database is locked" at once, without its busy wait, while another process holds it (a web worker died of
    it and gunicorn stopped the web app: 34 of 60 tries with two processes). So the switch is tried again until
    WAL_WAIT_S has passed; a file already in WAL mode is left as it is."""
    deadline = time.monotonic() + WAL_WAIT_S
    while True:
        try:
            with made.connect() as connection:
                if connection.exec_driver_sql("pragma journal_mode").scalar() != "wal":
                    connection.exec_driver_sql("pragma journal_mode=wal")
                return
        except sa.exc.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def sqlite_file(place: str | Path) -> Path | None:
    """The file of a SQLite place, None for any other database."""
    text = str(place)
    if "://" not in text:
        return Path(text)
    if text.startswith("sqlite:///"):
        return Path(text[len("sqlite:///"):].removeprefix("file:").split("?", 1)[0])
    return None


def engine(place: str | Path, read_only: bool = False) -> Engine:
    """The process's engine for a database (made on first use; a forked worker makes its own)."""
    url = url_of(place, read_only)
    key = (url, read_only)
    with _lock:
        made = _engines.get(key)
        if made is None:
            if url.startswith("sqlite"):
                made = sa.create_engine(url, poolclass=QueuePool, pool_size=4, max_overflow=16,
                                        connect_args={"timeout": 5, "check_same_thread": False})
                _sqlite_transactions(made)
            else:
                made = sa.create_engine(url, pool_pre_ping=True, pool_size=4, max_overflow=16,
                                        connect_args={"connect_timeout": 5})
            _engines[key] = made
    return made


def _sqlite_transactions(made: Engine) -> None:
    """SQLAlchemy's documented recipe for SQLite: the driver never opens a transaction by itself (each statement
    commits on its own), and a transaction SQLAlchemy begins is BEGIN IMMEDIATE (the write lock taken at once).
    synchronous=NORMAL, as the tracker store has it (rasa_ext/tracker_store.py): in WAL mode a commit no longer waits
    for the disk (the rate limits' commits were about 4 of the web app's 10 ms on a chat message, py-spy); a crash of
    the process loses nothing, a power cut may lose the last commits but never breaks the file."""
    @event.listens_for(made, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("pragma synchronous=normal")

    @event.listens_for(made, "begin")
    def _begin(connection) -> None:
        connection.exec_driver_sql("begin immediate")


@contextmanager
def connect(place: str | Path, read_only: bool = False) -> Iterator[Connection]:
    """A pooled connection on which each statement commits by itself, returned to the pool on exit."""
    with engine(place, read_only).connect() as connection:
        yield connection if connection.dialect.name == "sqlite" else \
            connection.execution_options(isolation_level="AUTOCOMMIT")


def lock_key(name: str) -> int:
    """A stable 32-bit key for PostgreSQL's advisory locks."""
    return zlib.crc32(name.encode("utf-8"))


@contextmanager
def writing(place: str | Path, lock: str) -> Iterator[Connection]:
    """A connection of its own inside one write transaction, committed on success and rolled back on any error.
    SQLite: BEGIN IMMEDIATE (one writer per file); PostgreSQL: an advisory lock on `lock` held to the end."""
    with engine(place).begin() as connection:
        if connection.dialect.name != "sqlite":
            connection.execute(sa.text("select pg_advisory_xact_lock(:key)"), {"key": lock_key(lock)})
        yield connection


def tables(connection: Connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names())


def json_field(connection: Connection, column: str, *path: str) -> str:
    """SQL reading one field of a JSON text column as text (objects and arrays as their JSON text)."""
    if connection.dialect.name == "sqlite":
        return f"json_extract({column}, '$.{'.'.join(path)}')"
    return f"(cast({column} as json) #>> '{{{','.join(path)}}}')"


def missing_table(exc: BaseException) -> bool:
    """Whether a database error says a table does not exist (either dialect)."""
    text = str(getattr(exc, "orig", exc))
    return "no such table" in text or ("relation" in text and "does not exist" in text)
