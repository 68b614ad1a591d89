"""The console's summary tables as the real Rasa server keeps them (rasa_ext/tracker_store.py): in step
with the stored events, and filled from the events when a tracker store from before them is opened."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

from yishi import summaries


def tables(db: sqlite3.Connection) -> tuple[list, list]:
    return (db.execute("select * from conversation_summaries order by sender_id").fetchall(),
            db.execute("select * from conversation_questions order by sender_id, seq").fetchall())


def rebuilt(path) -> tuple[list, list]:
    """The tables folded again from every stored event, in memory."""
    source = sqlite3.connect(path)
    memory = sqlite3.connect(":memory:")
    db = summaries.DbApi(memory)
    summaries.create(db)
    summaries.rebuild(db, source.execute("select sender_id, data from events where type_name in ('user', 'bot') "
                                         "order by sender_id, id"), json.loads)
    source.close()
    return tables(memory)


def test_the_rasa_server_keeps_the_summaries_in_step_with_the_events(stack, sender):
    first = [m.get("custom") or {} for m in stack.say(sender, "娃儿的事咋弄")]  # an ask-back, or another answer
    stack.say(sender, '/choose_bundle{"bundle":"newborn"}')
    stack.say(sender, "我要开健身房")
    stack.say(sender, "明天会下雨吗")
    with sqlite3.connect(stack.tracker_db) as db:
        kept = tables(db)
        mine = db.execute("select text, outcome, bundle from conversation_questions where sender_id = ? order by seq",
                          (sender,)).fetchall()
        user_messages = db.execute("select user_messages from conversation_summaries where sender_id = ?",
                                   (sender,)).fetchone()[0]
    assert kept == rebuilt(stack.tracker_db)
    assert [text for text, _, _ in mine] == ["娃儿的事咋弄", "我要开健身房", "明天会下雨吗"]
    kinds = [c.get("type") for c in first]
    # a question asked back counts for the bundle then picked; otherwise for what the first reply was
    expected = ("bundle", "newborn") if "clarify" in kinds else ("fallback", None) if "fallback" in kinds else \
        ("bundle", next(c["bundle"] for c in first if c.get("type") == "bundle"))
    assert mine[0][1:] == expected and mine[1][1:] == ("bundle", "gym") and mine[2][1] == "fallback"
    assert user_messages == 4  # the button click is a message, not a question


def test_a_tracker_store_from_before_the_summaries_is_filled_when_opened(stack, sender, tmp_path):
    stack.say(sender, "想开个洗车铺子")
    old = tmp_path / "old.db"
    with sqlite3.connect(stack.tracker_db) as source, sqlite3.connect(old) as copy:
        source.backup(copy)
    with sqlite3.connect(old) as db:
        for table in summaries.TABLES:
            db.execute(f"drop table {table}")
    subprocess.run([sys.executable, "-c", "import sys; from rasa_ext.tracker_store import WalSQLTrackerStore; "
                    "WalSQLTrackerStore(dialect='sqlite', db=sys.argv[1])", str(old)], check=True, timeout=120)
    with sqlite3.connect(old) as db:
        kept = tables(db)
        assert summaries.is_current(summaries.DbApi(db))
    assert kept == rebuilt(old) and any(row[0] == sender for row in kept[0])
