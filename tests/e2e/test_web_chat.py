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


def test_numbers_typed_with_separators_or_invisible_characters_are_stored_nowhere_unmasked(web, stack, tmp_path):
    """138.0013.8000, spaced digits and zero-width characters: masked before the tracker store, web.db or a log."""
    import sqlite3

    typed = ["我电话138.0013.8000，想开个洗车铺子", "身份证1101051949\u200d1231002X 上户口",
             "手机 1 3 8 0 0 1 3 8 0 0 0", "13800\u200b138000 开健身房"]
    client = web.test_client()
    for text in typed:
        assert client.post("/chat/message", json={"text": text}).status_code == 200
    with sqlite3.connect(stack.tracker_db) as db:
        stored = " ".join(row[0] for row in db.execute("select data from events"))
    with sqlite3.connect(web.config["WEB_DB"]) as db:
        stored += " ".join(str(row) for row in db.execute("select * from unanswered"))
    stored += stack.logs()
    for raw in ("13800138000", "11010519491231002", "138.0013.8000", "1 3 8 0 0 1 3 8 0 0 0", "13800\u200b138000",
                "1101051949\u200d1231002X", "13800\\u200b138000", "1101051949\\u200d1231002X"):
        assert raw not in stored, raw  # (the last two: as JSON escapes them)
    assert "138****8000" in stored and "110105********002X" in stored
