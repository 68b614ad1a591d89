"""The chat as the web app owns it: its own session ids, a length cap, masking, a timeout and a
polite fallback, and a rate limit, in front of Rasa's REST channel (../shared/reliability.md 2, 3, 5, 7, 8)."""

from __future__ import annotations

import json
import uuid
import zlib
from typing import Any

import jwt
import requests
from flask import Blueprint, current_app, jsonify, request, session

from chattext import guard

from . import store

bp = Blueprint("chat", __name__, url_prefix="/chat")

FALLBACK = ("抱歉，系统暂时没能回答您的问题，您的问题已经记录。您可以稍后再试，"
            "或到区政务服务中心“一事一次办”综合窗口咨询，也可以拨打12345政务服务便民热线。")


def session_id(new: bool = False) -> str:
    """The visitor's conversation id: issued here, kept in the signed session cookie, never taken from the client."""
    if new or "sid" not in session:
        session["sid"] = uuid.uuid4().hex
        session.permanent = True
    return session["sid"]


def pin(urls: list[str], sid: str) -> str:
    """The Rasa server a conversation lives on: a stable choice per session id, so no lock store is needed."""
    return urls[zlib.crc32(sid.encode()) % len(urls)]


def rasa_url(sid: str) -> str:
    return pin(current_app.config["RASA_URLS"], sid)


def rasa_auth() -> dict[str, str]:
    """The header for Rasa's HTTP API (tracker, parse), which runs with a JWT secret shared with this app."""
    token = jwt.encode({"user": {"username": "yishi-web", "role": "admin"}},
                       current_app.config["RASA_JWT_SECRET"], algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


def _reply(messages: list[dict[str, Any]], status: int = 200):
    response = jsonify(messages=messages)
    response.status_code = status
    return response


def _fallback(sid: str, text: str, reason: str):
    store.keep_unanswered(sid, text, reason)
    current_app.logger.warning("chat fallback (%s) for session %s", reason, sid[:8])
    return _reply([{"text": FALLBACK, "custom": {"type": "fallback"}}])


@bp.post("/message")
def message():
    """Body {"text": "…"}: the bot's messages, or a polite fallback; never an error page."""
    body = request.get_json(silent=True)
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        return jsonify(error="请输入您要咨询的内容。"), 400
    limit = current_app.config["CHAT_MAX_CHARS"]
    if len(text) > limit:
        return jsonify(error=f"您的问题有{len(text)}个字，太长了，请精简到{limit}字以内再发送。"), 400
    sid = session_id()
    ip = request.remote_addr or "unknown"
    if not (store.allow(f"s:{sid}", current_app.config["RATE_PER_SESSION"])
            and store.allow(f"ip:{ip}", current_app.config["RATE_PER_IP"])):
        response = jsonify(error="您发送得太快了，请稍等一分钟再试。")
        response.headers["Retry-After"] = "60"
        return response, 429
    safe = guard(text)
    try:
        answer = requests.post(f"{rasa_url(sid)}/webhooks/rest/webhook",
                               json={"sender": sid, "message": safe},
                               timeout=current_app.config["CHAT_TIMEOUT_S"])
        messages = answer.json() if answer.ok else []
    except requests.Timeout:
        return _fallback(sid, safe, "timeout")
    except (requests.RequestException, json.JSONDecodeError):
        return _fallback(sid, safe, "unreachable")
    if not isinstance(messages, list) or not messages:
        return _fallback(sid, safe, "empty")  # the action server is down: Rasa answers 200 []
    return _reply(messages)


@bp.get("/history")
def history():
    """This visitor's conversation so far (so a page reload keeps it), read from Rasa's tracker store."""
    if "sid" not in session or not current_app.config["RASA_JWT_SECRET"]:
        return jsonify(turns=[])
    try:
        answer = requests.get(f"{rasa_url(session['sid'])}/conversations/{session['sid']}/tracker",
                              headers=rasa_auth(), timeout=current_app.config["CHAT_TIMEOUT_S"])
        events = answer.json().get("events", []) if answer.ok else []
    except (requests.RequestException, ValueError):
        events = []
    return jsonify(turns=[turn for event in events if (turn := _turn(event))])


def _turn(event: dict[str, Any]) -> dict[str, Any] | None:
    if event.get("event") == "user" and event.get("text"):
        return {"from": "user", "text": event["text"]}
    if event.get("event") == "bot":
        data = event.get("data") or {}
        turn = {"from": "bot", "text": event.get("text"), "buttons": data.get("buttons") or [],
                "custom": data.get("custom")}
        return turn if turn["text"] or turn["custom"] or turn["buttons"] else None
    return None


@bp.post("/restart")
def restart():
    """重新开始: a new conversation id; the old transcript stays for staff review."""
    session_id(new=True)
    return _reply([])
