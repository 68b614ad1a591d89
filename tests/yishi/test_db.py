"""yishi.db: the SQL layer of the web app's store, the console's readers and retention (SQLite here; PostgreSQL in
tests/web_widget/staff/test_store_profiles.py)."""

from __future__ import annotations

import sqlalchemy as sa

from yishi import db


def test_a_sqlite_write_transaction_takes_the_write_lock_and_commits_without_waiting_for_the_disk(tmp_path):
    place = tmp_path / "store.db"
    with db.connect(place) as connection:
        connection.exec_driver_sql("pragma journal_mode=wal")
        assert connection.exec_driver_sql("pragma synchronous").scalar_one() == 1  # NORMAL (FULL is 2)
    with db.writing(place, "test") as connection:
        connection.execute(sa.text("create table t (x integer)"))
        connection.execute(sa.text("insert into t values (1)"))
        assert connection.connection.dbapi_connection.in_transaction
    with db.connect(place, read_only=True) as connection:
        assert connection.execute(sa.text("select x from t")).scalar_one() == 1
