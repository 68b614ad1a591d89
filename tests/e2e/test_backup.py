"""`yishi backup DIR` while citizens chat, and a conversation read back from the restored copy (issue 14, req 6)."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import uuid

from web_widget import cli
from web_widget.staff import tracker


def test_a_backup_taken_while_visitors_chat_restores_a_conversation(stack, tmp_path, monkeypatch, capsys):
    sender = f"backup-{uuid.uuid4().hex}"
    stack.say(sender, "想开个洗车铺子")
    stack.say(sender, '/answer_question{"question":"has_licence","value":"yes"}')
    stop = threading.Event()

    def chat():  # other visitors keep writing to the tracker store while the copy is taken
        while not stop.is_set():
            stack.say(f"busy-{uuid.uuid4().hex}", "我要开健身房")

    visitors = [threading.Thread(target=chat) for _ in range(2)]
    for visitor in visitors:
        visitor.start()
    try:
        monkeypatch.setenv("YISHI_TRACKER_DB", str(stack.tracker_db))
        monkeypatch.setenv("YISHI_WEB_DB", str(tmp_path / "no-web.db"))  # missing files are left out
        assert cli.main(["backup", str(tmp_path / "backups")]) == 0
    finally:
        stop.set()
        for visitor in visitors:
            visitor.join(timeout=60)
    out = capsys.readouterr().out
    copies = list((tmp_path / "backups").glob("yishi-backup-*/*.db"))
    assert {copy.name for copy in copies} == {stack.tracker_db.name, "catalogue.db"} and "YISHI_TRACKER_DB" in out

    # restore: the copy put where a stopped Yishi would read it, then the conversation read back as the console does
    restored = tmp_path / "restored" / "rasa.db"
    restored.parent.mkdir()
    shutil.copy(next(c for c in copies if c.name == stack.tracker_db.name), restored)
    with sqlite3.connect(restored) as db:
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
    turns = tracker.conversation(restored, sender, 0.5)
    assert [t.user.text for t in turns if t.user] == ["想开个洗车铺子",
                                                      '/answer_question{"question":"has_licence","value":"yes"}']
    assert any(r.kind == "bundle" and r.bundle == "car_wash" for r in turns[-1].replies)
