"""Bundle answers are stored lean by the real Rasa server and shown whole again by the web app (issue 13)."""

from __future__ import annotations

import json
import shutil
import sqlite3

from catalogue import build
from catalogue import config as catalogue_config
from web_widget import create_app


def bundle_payload(messages: list[dict]) -> dict:
    return next(m["custom"] for m in messages if (m.get("custom") or {}).get("type") == "bundle")


def app_on(stack, tmp_path, catalogue_db):
    return create_app({"TESTING": True, "WEB_DB": str(tmp_path / "web.db"), "RASA_URLS": [stack.rasa_url],
                       "RASA_JWT_SECRET": stack.jwt_secret, "SECRET_KEY": "lean", "CATALOGUE_DB": str(catalogue_db)})


def test_the_reply_is_whole_the_stored_event_small_and_the_history_whole_again(stack, tmp_path):
    app = app_on(stack, tmp_path, catalogue_config.db_path())
    client = app.test_client()
    live = bundle_payload(client.post("/chat/message", json={"text": "我要开健身房"}).json["messages"])
    assert live["checklist"]["slug"] == "gym" and live["checklist"]["materials"]  # the contract, unchanged
    with client.session_transaction() as session:
        sender = session["sid"]
    with sqlite3.connect(stack.tracker_db) as db:
        bots = [row[0] for row in db.execute("select data from events where sender_id = ? and type_name = 'bot'",
                                             (sender,))]
    assert bots and max(len(data) for data in bots) < 1024  # (the checklist alone is ~20 KB)
    stored = next(json.loads(d)["data"]["custom"] for d in bots if '"lean": 1' in d)
    assert stored["bundle"] == "gym" and "checklist" not in stored
    turns = client.get("/chat/history").json["turns"]
    shown = next(t["custom"] for t in turns if (t.get("custom") or {}).get("type") == "bundle")
    assert shown["checklist"] == live["checklist"] and shown["changed"] is False


def test_a_conversation_replayed_after_a_publish_shows_the_list_as_it_is_now(stack, tmp_path):
    client = app_on(stack, tmp_path, catalogue_config.db_path()).test_client()
    client.post("/chat/message", json={"text": "我要开健身房"})
    sources = tmp_path / "sources"
    shutil.copytree(catalogue_config.sources_dir(), sources)
    materials = sources / "registry" / "materials.yaml"
    text = materials.read_text(encoding="utf-8")
    materials.write_text(text.replace("name: 公司章程（全体股东签署）,", "name: 公司章程（全体股东签字）,", 1), encoding="utf-8")
    assert build.build(sources, tmp_path / "published.db").ok
    later = app_on(stack, tmp_path, tmp_path / "published.db").test_client()
    with client.session_transaction() as old, later.session_transaction() as new:
        new.update(old)  # the same visitor, after the publish
    turns = later.get("/chat/history").json["turns"]
    shown = next(t for t in turns if (t.get("custom") or {}).get("type") == "bundle")
    assert shown["custom"]["changed"] is True
    assert "公司章程（全体股东签字）" in shown["text"] and "已按最新办事指南更新" in shown["text"]
