"""The web app's store as gunicorn's workers make it: each worker creates the app at the same moment, and each puts
the SQLite file in WAL mode and creates the tables (web_widget/store.py init_db). A worker that failed there exited,
and gunicorn stopped the whole web app (seen in CI: tests/e2e/test_security.py's web app refused every connection)."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import sqlalchemy as sa

ROUNDS = 80


def _start(paths: list[str], barrier, results) -> None:
    """One worker: for each fresh file, wait for the other worker, then make the store."""
    from web_widget import store

    failures = []
    for path in paths:
        barrier.wait(timeout=60)
        try:
            store.init_db(path)
        except Exception as exc:  # noqa: BLE001 - what a worker would have died of
            failures.append(f"{Path(path).parent.name}: {exc!r}"[:200])
    results.put(failures)


def test_two_workers_making_a_new_store_at_once_both_start(tmp_path):
    """Two processes (spawned, as separate as gunicorn's workers) make the same new store together, 80 times.
    Before yishi.db.ensure_wal waited for the journal mode switch, 34 of 60 such tries failed with "database is locked"."""
    paths = []
    for number in range(ROUNDS):
        (tmp_path / str(number)).mkdir()
        paths.append(str(tmp_path / str(number) / "web.db"))
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    workers = [context.Process(target=_start, args=(paths, barrier, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    failures = [failure for _ in workers for failure in results.get(timeout=240)]
    for worker in workers:
        worker.join(timeout=60)
    assert failures == []
    for path in paths:
        engine = sa.create_engine(f"sqlite:///{path}")
        with engine.connect() as connection:
            assert connection.exec_driver_sql("pragma journal_mode").scalar() == "wal"
            assert "hits" in sa.inspect(connection).get_table_names()
        engine.dispose()
