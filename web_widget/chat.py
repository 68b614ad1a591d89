"""The chat as the web app owns it: its own session ids, a length cap, masking, a timeout and a
polite fallback, and a rate limit, in front of Rasa's REST channel (yishi.rasa_client)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from flask import Blueprint, current_app, jsonify, request, session

from catalogue import workdays
from chattext import guard, without_format_characters
from yishi import lean
from yishi.rasa_client import RasaBusy, RasaClient, RasaTimeout, RasaUnavailable

from . import ratings, store

bp = Blueprint("chat", __name__, url_prefix="/chat")

FALLBACK = ("抱歉，系统暂时没能回答您的问题，您的问题已经记录。您可以稍后再试，"
            "或到区政务服务中心“一事一次办”综合窗口咨询，也可以拨打12345政务服务便民热线。")


def tolerant(default: Any, call, *args: Any) -> Any:
    """A store call the chat can do without: while the web app's store (the database, or Redis) cannot be reached,
    citizens still get answers; what was lost is logged (never the text)."""
    try:
        return call(*args)
    except store.unavailable_errors():
        current_app.logger.error("the web app's store is unavailable (%s skipped)", call.__name__, exc_info=True)
        return default


def session_id(new: bool = False) -> str:
    """The visitor's conversation id: issued here, kept in the signed session cookie, never taken from the client."""
    if new or "sid" not in session or tolerant(False, store.conversation_ended, session["sid"]):
        session["sid"] = uuid.uuid4().hex
        session.permanent = True
    return session["sid"]


def rasa() -> RasaClient:
    """The client of this app's Rasa servers (each conversation on one while it answers, then on the next)."""
    config = current_app.config
    return RasaClient(config["RASA_URLS"], config["RASA_JWT_SECRET"], config["CHAT_TIMEOUT_S"], "yishi-web",
                      config["RASA_IN_FLIGHT"], failover=True)


class BadText(ValueError):
    """A chat body without usable text; the message is for the citizen (or staff member)."""


MAX_JSON_DEPTH = 8  # a chat body is {"text": …, "sender": …}; deeper nesting only serves to exhaust the parser


def json_body() -> Any:
    """The request's JSON body, or None when it is not JSON, not UTF-8 or nested deeper than MAX_JSON_DEPTH
    (checked on the raw bytes before parsing: Python's parser recurses, and deep nesting ended in a 500)."""
    raw = request.get_data(cache=True)
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            escaped, in_string = (False, True) if escaped else (byte == 0x5C, byte != 0x22)
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                return None
        elif byte in (0x5D, 0x7D):
            depth -= 1
    try:
        return json.loads(raw)
    except ValueError:
        return None


def read_text(empty: str = "请输入您要咨询的内容。") -> str:
    """The "text" of a JSON body, refused when missing, blank or longer than CHAT_MAX_CHARS."""
    body = json_body()
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not guard(without_format_characters(text)).strip():
        raise BadText(empty)  # nothing visible: spaces, zero-width or control characters, lone surrogates
    limit = current_app.config["CHAT_MAX_CHARS"]
    if len(text) > limit:
        raise BadText(f"您的问题有{len(text)}个字，太长了，请精简到{limit}字以内再发送。")
    return text


def _reply(messages: list[dict[str, Any]], status: int = 200):
    response = jsonify(messages=messages)
    response.status_code = status
    return response


def _fallback(sid: str, text: str, reason: str):
    tolerant(None, store.keep_unanswered, sid, text, reason)
    current_app.logger.warning("chat fallback (%s) for session %s", reason, sid[:8])
    return _reply([{"text": FALLBACK, "custom": {"type": "fallback"}}])


@bp.post("/message")
def message():
    """Body {"text": "…"}: the bot's messages, or a polite fallback within CHAT_TIMEOUT_S; never an error page."""
    deadline = time.monotonic() + current_app.config["CHAT_TIMEOUT_S"]
    try:
        text = read_text()
    except BadText as exc:
        return jsonify(error=str(exc)), 400
    sid = session_id()
    ip = request.remote_addr or "unknown"
    # the rate limit fails open while its store is down: Rasa's own cap on chats in flight still holds
    if not tolerant(True, store.allow_all, [(f"s:{sid}", current_app.config["RATE_PER_SESSION"]),
                                            (f"ip:{ip}", current_app.config["RATE_PER_IP"])]):
        response = jsonify(error="您发送得太快了，请稍等一分钟再试。")
        response.headers["Retry-After"] = "60"
        return response, 429
    safe = guard(text)
    store.release()  # no database connection held while Rasa answers
    try:
        messages = rasa().send(sid, safe, deadline=deadline)
    except RasaBusy:
        return _fallback(sid, safe, "busy")
    except RasaTimeout:
        return _fallback(sid, safe, "timeout")
    except RasaUnavailable:
        return _fallback(sid, safe, "unreachable")
    if not messages:
        return _fallback(sid, safe, "empty")  # the action server is down: Rasa answers 200 []
    for bundle in _bundles_answered(messages):  # what this conversation may rate (好差评)
        tolerant(None, store.note_bundle_answer, sid, bundle)
    return _reply(messages)


def _bundles_answered(messages: list[dict[str, Any]]) -> set[str]:
    return {custom["bundle"] for message in messages if isinstance(message, dict)
            and isinstance(custom := message.get("custom"), dict) and custom.get("type") == "bundle"
            and isinstance(custom.get("bundle"), str) and custom["bundle"]}


@bp.post("/rating")
def rate():
    """好差评 of a bundle answer, body {"bundle": slug, "level": 5…1, "reasons": [...], "text": "…"} (web_widget.ratings).

    Only a bundle this cookie's conversation was answered with (the chat writes each one down as it returns it), in
    a conversation not ended with 重新开始 (the kiosk's idle wipe ends it: a rating never reaches the next citizen's
    session); rate-limited like the chat; the text masked like the chat's. No address or browser is kept."""
    try:
        rating = ratings.parse(json_body())
    except ratings.BadRating as exc:
        return jsonify(error=str(exc)), 400
    try:
        return _rate(rating)
    except store.unavailable_errors():
        current_app.logger.error("the web app's store is unavailable: a rating was not kept", exc_info=True)
        return jsonify(error="评价暂时无法保存，请稍后再试。"), 503


def _rate(rating: ratings.Rating):
    sid = session.get("sid")
    if not sid or store.conversation_ended(sid):
        return jsonify(error="这段对话已经结束，无法再评价。"), 403
    ip = request.remote_addr or "unknown"
    if not store.allow_all([(f"rating:s:{sid}", current_app.config["RATE_PER_SESSION"]),
                            (f"rating:ip:{ip}", current_app.config["RATE_PER_IP"])]):
        response = jsonify(error="您提交得太快了，请稍等一分钟再试。")
        response.headers["Retry-After"] = "60"
        return response, 429
    if not store.bundle_answered(sid, rating.bundle):
        return jsonify(error="只能评价本次对话中一事给出的清单。"), 403
    store.save_rating(sid, rating)
    thanks = "感谢您的反馈！工作人员会在15个工作日内跟进整改。" if rating.poor else "感谢您的评价！"
    return _no_store(jsonify(level=rating.level, label=ratings.LEVELS[rating.level], message=thanks))


@bp.get("/history")
def history():
    """This visitor's conversation so far (so a page reload keeps it), read from Rasa's tracker store."""
    if "sid" not in session or not current_app.config["RASA_JWT_SECRET"] \
            or tolerant(False, store.conversation_ended, session["sid"]):
        return _no_store(jsonify(turns=[], ratings={}))
    store.release()
    try:
        events = rasa().tracker(session["sid"]).get("events") or []
    except RasaUnavailable:
        events = []
    return _no_store(jsonify(turns=[turn for event in events if (turn := _turn(event))],
                             ratings=tolerant({}, store.ratings_of, session["sid"])))


def _no_store(response):
    """A transcript is nobody's cache's business (shared kiosks, proxies)."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _turn(event: dict[str, Any]) -> dict[str, Any] | None:
    if event.get("event") == "user" and event.get("text"):
        return {"from": "user", "text": event["text"]}
    if event.get("event") == "bot":
        data = event.get("data") or {}
        turn = {"from": "bot", "text": event.get("text"), "buttons": data.get("buttons") or [],
                "custom": data.get("custom")}
        if lean.is_lean(turn["custom"]):  # a bundle answer stored as a reference: the list as it is now
            expanded = lean.expand(turn["custom"], current_app.extensions["catalogue"].records(), workdays.today())
            if expanded is not None:
                turn["text"], turn["custom"] = expanded
        return turn if turn["text"] or turn["custom"] or turn["buttons"] else None
    return None


@bp.post("/restart")
def restart():
    """重新开始: a new conversation id; the old one is ended for good (its transcript stays for staff review)."""
    if "sid" in session:
        tolerant(None, store.end_conversation, session["sid"])
    session_id(new=True)
    return _reply([])
