"""Runs last in the session (file name order): it stops the shared stack's action server."""

from __future__ import annotations

from web_widget import store

from .test_web_chat import web  # noqa: F401 - the fixture


def test_action_server_down_gives_a_polite_fallback(web, stack):
    """Runs last in this session: it stops the action server. Rasa then answers 200 [] (finding 2)."""
    stack.processes[0].terminate()
    stack.processes[0].wait(timeout=20)
    assert stack.say("raw-check", "我要开健身房") == []
    response = web.test_client().post("/chat/message", json={"text": "我要开健身房"})
    assert response.status_code == 200
    assert response.json["messages"][0]["custom"] == {"type": "fallback"}
    with web.app_context():
        assert [(k["text"], k["reason"]) for k in store.unanswered()] == [("我要开健身房", "empty")]
