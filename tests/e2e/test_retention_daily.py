"""The web app keeps the retention policy by itself (issue 14, req 5): a gunicorn worker purges once a day."""

from __future__ import annotations

import sqlite3
import time

from tests.yishi.test_retention import bot, tracker, user


def test_the_web_app_purges_old_conversations_when_it_starts_and_daily(stack, tmp_path):
    rasa_db = tmp_path / "rasa.db"
    tracker(rasa_db, {"ancient": (1_000_000_000.0, [user("想开健身房"), bot("bundle", "gym")]),
                      "today": (time.time() - 60, [user("想开健身房"), bot("bundle", "gym")])})
    web = stack.start_web(workers=2, folder=tmp_path, extra_env={"YISHI_TRACKER_DB": str(rasa_db),
                                                                 "YISHI_RETENTION_DAYS": "180"})
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "retention: deleted" not in (tmp_path / "web.log").read_text():
            time.sleep(0.2)
        log = (tmp_path / "web.log").read_text()
        assert log.count("retention: deleted: 1 conversations") == 1  # one of the two workers, once
        with sqlite3.connect(rasa_db) as db:
            assert db.execute("select distinct sender_id from events").fetchall() == [("today",)]
    finally:
        web.process.terminate()
        web.process.wait(timeout=10)
