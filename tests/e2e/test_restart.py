"""Conversations survive a restart of both servers (the SQLite tracker store), and the warm-up leaves no trace."""

from __future__ import annotations

import sqlite3

from ops import stack as stack_module


def test_a_conversation_survives_a_restart(tmp_path, custom_of):
    first = stack_module.start(tmp_path)
    try:
        assert custom_of(first.say("citizen-1", "我要开健身房"), "bundle")["bundle"] == "gym"
    finally:
        first.stop()
    second = stack_module.start(tmp_path)  # the same folder, so the same build/rasa.db
    try:
        messages = second.say("citizen-1", "要多久")
        assert messages[0]["text"].startswith("“我要开健身房”一次办")  # the bundle is still in context
    finally:
        second.stop()
    with sqlite3.connect(tmp_path / "rasa.db") as db:
        senders = {row[0] for row in db.execute("select distinct sender_id from events")}
    assert senders == {"citizen-1"}  # the warm-up before "ready" created no conversation
