"""The shared stack's action server frozen, then stopped (and started again, so test order does not matter)."""

from __future__ import annotations

import signal

from web_widget import create_app, store


def test_frozen_action_server_gives_a_fallback_within_the_web_apps_timeout(stack, tmp_path):
    """Rasa would wait 300 s for a frozen action server (finding 3); the web app gives up after its own timeout."""
    impatient = create_app({"TESTING": True, "WEB_DB": str(tmp_path / "web.db"), "RASA_URLS": [stack.rasa_url],
                            "SECRET_KEY": "test", "CHAT_TIMEOUT_S": 2})
    stack.processes[0].send_signal(signal.SIGSTOP)
    try:
        response = impatient.test_client().post("/chat/message", json={"text": "我要开健身房，电话13800138000"})
    finally:
        stack.processes[0].send_signal(signal.SIGCONT)
    assert response.status_code == 200 and response.json["messages"][0]["custom"] == {"type": "fallback"}
    with impatient.app_context():
        assert [(k["text"], k["reason"]) for k in store.unanswered()] == [("我要开健身房，电话138****8000", "timeout")]


def test_action_server_down_gives_a_polite_fallback(web, stack):
    """With the action server stopped, Rasa answers 200 [] (finding 2); the web app says so politely."""
    stack.processes[0].terminate()
    stack.processes[0].wait(timeout=20)
    try:
        assert stack.say("raw-check", "我要开健身房") == []
        response = web.test_client().post("/chat/message", json={"text": "我要开健身房"})
    finally:
        stack.start_actions()
    assert response.status_code == 200
    assert stack.say("raw-check-after", "我要开健身房")  # back for the tests that follow
    assert response.json["messages"][0]["custom"] == {"type": "fallback"}
    with web.app_context():
        assert [(k["text"], k["reason"]) for k in store.unanswered()] == [("我要开健身房", "empty")]
