"""The web app's side of the chat, without Rasa: nothing here may reach it (its port is closed)."""

from __future__ import annotations

import threading

import pytest

from ops.stack import free_port
from web_widget import create_app, store

ID_NUMBER = "11010519491231002X"


@pytest.fixture
def app(mini_db, tmp_path):
    return create_app({"TESTING": True, "CATALOGUE_DB": str(mini_db), "WEB_DB": str(tmp_path / "web.db"),
                       "RASA_URLS": [f"http://127.0.0.1:{free_port()}"], "RATE_PER_SESSION": 3, "SECRET_KEY": "test"})


def unanswered(app) -> list[dict]:
    with app.app_context():
        return store.unanswered()


def test_too_long_or_empty_text_is_refused_before_rasa(app):
    client = app.test_client()
    response = client.post("/chat/message", json={"text": "开" * 501})
    assert response.status_code == 400
    assert response.json["error"] == "您的问题有501个字，太长了，请精简到500字以内再发送。"
    for body in ({"text": "   "}, {"text": 42}, [], {"message": "你好"}, {"text": "\u200b\u200d\ufeff "},
                 {"text": "\u0000\u0001\u001b\u007f"}, {"text": "\u0000\u200b\u0007 "}):
        assert client.post("/chat/message", json=body).status_code == 400
    assert client.post("/chat/message", data="not json").status_code == 400
    lone_surrogate = client.post("/chat/message", data='{"text": "\\ud800"}', content_type="application/json")
    assert lone_surrogate.status_code == 400
    huge = client.post("/chat/message", data="{" + " " * 1_000_000 + "}", content_type="application/json")
    assert huge.status_code == 413 and huge.json == {"error": "内容太长了，请精简后再发送。"}
    assert unanswered(app) == []  # nothing was forwarded, so nothing failed


def test_rasa_unreachable_gives_a_polite_fallback_and_keeps_the_question_masked(app):
    client = app.test_client()
    response = client.post("/chat/message", json={"text": f"身份证{ID_NUMBER}开餐馆", "sender": "default"})
    assert response.status_code == 200
    assert response.json["messages"][0]["custom"] == {"type": "fallback"}
    assert "12345" in response.json["messages"][0]["text"] and "综合窗口" in response.json["messages"][0]["text"]
    kept = unanswered(app)
    assert [k["text"] for k in kept] == ["身份证110105********002X开餐馆"]
    assert kept[0]["reason"] == "unreachable"
    assert kept[0]["session"] != "default" and len(kept[0]["session"]) == 32  # issued here, not by the client


def test_the_session_id_is_kept_in_a_signed_http_only_cookie(app):
    client = app.test_client()
    response = client.post("/chat/message", json={"text": "你好"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    client.post("/chat/message", json={"text": "再问一次"})
    sessions = {k["session"] for k in unanswered(app)}
    assert len(sessions) == 1
    client.post("/chat/restart")
    client.post("/chat/message", json={"text": "重新问"})
    assert len({k["session"] for k in unanswered(app)}) == 2


def test_rate_limit_answers_with_a_friendly_429(app):
    client = app.test_client()
    codes = [client.post("/chat/message", json={"text": f"问题{i}"}).status_code for i in range(4)]
    assert codes == [200, 200, 200, 429]
    response = client.post("/chat/message", json={"text": "再来"})
    assert response.json["error"] == "您发送得太快了，请稍等一分钟再试。" and response.headers["Retry-After"] == "60"


def test_only_allowed_sites_may_call_the_chat_across_origins(mini_db, tmp_path):
    app = create_app({"TESTING": True, "CATALOGUE_DB": str(mini_db), "WEB_DB": str(tmp_path / "web.db"),
                      "RASA_URLS": [f"http://127.0.0.1:{free_port()}"], "SECRET_KEY": "test",
                      "WIDGET_ORIGINS": ["https://www.longquanyi.gov.cn"]})
    client = app.test_client()
    allowed = client.options("/chat/message", headers={"Origin": "https://www.longquanyi.gov.cn",
                                                       "Access-Control-Request-Method": "POST"})
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://www.longquanyi.gov.cn"
    assert allowed.headers["Access-Control-Allow-Credentials"] == "true"
    for origin in ("https://evil.example", "null"):
        refused = client.post("/chat/message", json={"text": "你好"}, headers={"Origin": origin})
        assert "Access-Control-Allow-Origin" not in refused.headers


def test_each_conversation_stays_on_one_rasa_server(mini_db, tmp_path):
    from web_widget.chat import rasa
    from yishi.rasa_client import pin

    urls = [f"http://127.0.0.1:{free_port()}" for _ in range(2)]
    app = create_app({"TESTING": True, "CATALOGUE_DB": str(mini_db), "WEB_DB": str(tmp_path / "web.db"),
                      "RASA_URLS": urls, "SECRET_KEY": "test"})
    with app.app_context():
        assert rasa().urls == urls and rasa().failover  # moving when a server is down: tests/e2e/test_web_concurrency.py
    chosen = [pin(urls, f"{i:032x}") for i in range(200)]
    assert chosen == [pin(urls, f"{i:032x}") for i in range(200)]  # stable
    assert 70 < chosen.count(urls[0]) < 130  # and spread over both


def test_deeply_nested_json_is_refused_politely_not_a_500(app):
    client = app.test_client()
    for body in ("[" * 5000 + "]" * 5000, '{"text": ' + "[" * 100 + "1" + "]" * 100 + "}", '{"text": "\\u00e9"'):
        response = client.post("/chat/message", data=body, content_type="application/json")
        assert response.status_code == 400 and response.json == {"error": "请输入您要咨询的内容。"}
    assert client.post("/chat/message", data='{"text": "[[[[[[[[[[ 括号 ]]]]]]]]]]"}',
                       content_type="application/json").status_code == 200  # brackets inside a string are text


def test_restart_ends_the_old_conversation_even_for_a_copied_cookie(app):
    client = app.test_client()
    client.post("/chat/message", json={"text": "你好"})  # Rasa is unreachable: a fallback, but a session id
    with client.session_transaction() as s:
        old = s["sid"]
    old_cookie = client.get_cookie("session").value
    client.post("/chat/restart")
    replay = app.test_client()
    replay.set_cookie("session", old_cookie)
    replay.post("/chat/message", json={"text": "还是旧的对话吗"})
    with replay.session_transaction() as s:
        assert s["sid"] != old  # the old conversation is neither read nor written again
    history = replay.get("/chat/history")
    assert history.json == {"turns": [], "ratings": {}} and history.headers["Cache-Control"] == "no-store"


def test_headers_on_every_response(app):
    response = app.test_client().get("/api/bundles")
    assert "camera=()" in response.headers["Permissions-Policy"] and "microphone=()" in response.headers["Permissions-Policy"]


def test_the_chat_answers_while_its_rate_limit_store_cannot_be_reached(mini_db, tmp_path, caplog):
    """The city profile's Redis down: the rate limit fails open (Rasa's cap on chats in flight still holds) and the
    visitor still gets the polite fallback from the closed Rasa port, never a 500."""
    app = create_app({"TESTING": True, "CATALOGUE_DB": str(mini_db), "WEB_DB": str(tmp_path / "web.db"),
                      "RASA_URLS": [f"http://127.0.0.1:{free_port()}"], "SECRET_KEY": "test",
                      "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    client = app.test_client()
    for _ in range(2):
        response = client.post("/chat/message", json={"text": "想开个洗车铺子"})
        assert response.status_code == 200 and response.json["messages"][0]["custom"]["type"] == "fallback"
    assert len(unanswered(app)) == 2
    assert "the web app's store is unavailable (allow_all skipped)" in caplog.text


def test_no_database_connection_is_held_while_rasa_answers(mini_db, tmp_path):
    """A worker runs dozens of threads and the pool holds a few connections: a chat waiting on Rasa (here a socket
    that takes the connection and never answers, as a frozen server does) holds none."""
    import socket
    import time

    from yishi import db as databases

    frozen = socket.socket()
    frozen.bind(("127.0.0.1", 0))
    frozen.listen(8)
    app = create_app({"TESTING": True, "CATALOGUE_DB": str(mini_db), "WEB_DB": str(tmp_path / "web.db"),
                      "RASA_URLS": [f"http://127.0.0.1:{frozen.getsockname()[1]}"], "CHAT_TIMEOUT_S": 2,
                      "SECRET_KEY": "test"})
    replies, visitor = [], app.test_client()
    visitor.post("/chat/restart")  # a returning visitor: the chat looks its conversation up in the store first
    waiting = threading.Thread(target=lambda: replies.append(visitor.post("/chat/message", json={"text": "你好"})))
    try:
        waiting.start()
        time.sleep(0.8)
        assert waiting.is_alive() and databases.engine(str(tmp_path / "web.db")).pool.checkedout() == 0
        waiting.join(timeout=10)
    finally:
        frozen.close()
    assert replies[0].status_code == 200 and replies[0].json["messages"][0]["custom"]["type"] == "fallback"
