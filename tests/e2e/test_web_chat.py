"""The web app's chat in front of the real Rasa server and action server."""

from __future__ import annotations


def test_a_conversation_through_the_web_app(web, custom_of):
    client = web.test_client()
    messages = client.post("/chat/message", json={"text": "我要开健身房"}).json["messages"]
    assert custom_of(messages, "bundle")["bundle"] == "gym"
    messages = client.post("/chat/message", json={"text": "要多久"}).json["messages"]
    assert "个工作日" in messages[0]["text"]  # the same conversation: the bundle is still in context


def test_typed_slash_and_pii_are_guarded_by_the_web_app_too(web, stack):
    import json
    import sqlite3

    client = web.test_client()
    client.post("/chat/message", json={"text": "/restart 我的电话13800138000"})
    with sqlite3.connect(stack.tracker_db) as db:
        texts = [json.loads(row[0])["text"] for row in db.execute("select data from events where type_name = 'user'")]
    assert any("／restart 我的电话138****8000" in t for t in texts)
    assert not any("13800138000" in t for t in texts)
