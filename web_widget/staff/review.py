"""Staff console, conversation review: citizens' conversations (masked) with filters, one conversation
turn by turn, and labelling a misunderstood message into the review file."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for

from assistant.intents import OUT_OF_SCOPE, intent_name
from assistant.payloads import is_button_payload

from .. import store
from ..marks import json_api
from . import review_files, tracker
from .auth import current_staff
from .names import bundle_names, describe
from .tracker import Filters, TrackerMissing

bp = Blueprint("review", __name__)
PAGE_SIZE = 50
API_PAGE_MAX = 200  # the JSON list pages too: ?page=N&per_page=M, at most this many a page


def _filters() -> tuple[Filters, str | None]:
    args = request.args
    start, end, problem = tracker.date_range(args.get("start"), args.get("end"))
    return Filters(start, end, args.get("bundle") or None, args.get("fallback") == "1",
                   args.get("low") == "1", args.get("ask_back") == "1"), problem


def _find(filters: Filters, page: int, size: int) -> tuple[list[tracker.Summary], int] | None:
    """One page of the matching conversations and how many match, or None when there is no tracker store yet."""
    try:
        return tracker.conversations(current_app.config["TRACKER_DB"], filters, current_app.config["LOW_CONFIDENCE"],
                                     limit=size, offset=(page - 1) * size)
    except TrackerMissing:
        return None


def _page() -> int:
    """The page asked for (?page=N), kept to a sane range."""
    return min(max(1, request.args.get("page", 1, type=int)), 1_000_000)


@bp.get("/conversations")
def conversation_list():
    filters, problem = _filters()
    page = _page()
    found = _find(filters, page, PAGE_SIZE)
    total = found[1] if found else 0
    pages = max(1, -(-total // PAGE_SIZE))
    if found and page > pages:  # past the end (the list shrank, or a typed URL): the last page instead
        page = pages
        found = _find(filters, page, PAGE_SIZE)
    query = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("staff/conversations.html", filters=filters, problem=problem, tracker=found is not None,
                           total=total, shown=found[0] if found else [], page=page, pages=pages, query=query,
                           names=bundle_names(), low=current_app.config["LOW_CONFIDENCE"], describe=describe)


@bp.get("/api/conversations")
@json_api
def conversation_list_api():
    filters, problem = _filters()
    page, size = _page(), min(max(1, request.args.get("per_page", PAGE_SIZE, type=int)), API_PAGE_MAX)
    found = _find(filters, page, size)
    total = found[1] if found else 0
    return jsonify(start=filters.start.isoformat(), end=filters.end.isoformat(), problem=problem,
                   tracker=found is not None, total=total, page=page, per_page=size,
                   pages=max(1, -(-total // size)),
                   conversations=[_summary_json(s) for s in (found[0] if found else [])])


def _summary_json(summary: tracker.Summary) -> dict[str, Any]:
    data = asdict(summary)
    data.update(start=summary.start.isoformat(), end=summary.end.isoformat())
    return data


@bp.get("/conversations/<sender_id>")
def conversation_detail(sender_id: str):
    return _detail(sender_id)


def _detail(sender_id: str, problem: str | None = None, status: int = 200):
    try:
        turns = tracker.conversation(current_app.config["TRACKER_DB"], sender_id,
                                           current_app.config["LOW_CONFIDENCE"])
    except TrackerMissing:
        turns = []
    if not turns:
        problem, status = "没有找到这段对话。", 404
    labels = store.labels([t.user.id for t in turns if t.user])
    return render_template("staff/conversation.html", sender_id=sender_id, turns=turns,
                           labels=labels, names=bundle_names(), problem=problem, describe=describe,
                           saved=request.args.get("saved", type=int)), status


@bp.post("/conversations/<sender_id>/label")
def label(sender_id: str):
    """Label one user message with the right bundle or as out of scope; into the review file and web.db."""
    event_id = request.form.get("event_id", type=int)
    choice = (request.form.get("label") or "").strip()
    try:
        message = tracker.user_message(current_app.config["TRACKER_DB"], event_id) if event_id else None
    except TrackerMissing:
        message = None
    if message is None or message[0] != sender_id:
        return _detail(sender_id, "没有找到要标注的这条消息。", 404)
    if is_button_payload(message[1]) or not message[1].strip():
        return _detail(sender_id, "这条是按钮点击，不是群众输入的话，不能标注。", 400)
    names = bundle_names()
    if choice == OUT_OF_SCOPE:
        intent = OUT_OF_SCOPE
    elif choice in names:
        intent = intent_name(choice)
    else:
        return _detail(sender_id, f"没有这个“一件事”：{choice or '（未选择）'}，请从列表中选择。", 400)
    with store.writing():
        before = store.labels([event_id]).get(event_id)
        review_files.label(Path(current_app.config["REVIEW_FILE"]), message[1], intent)
        store.add_label(current_staff()["username"], event_id, sender_id, review_files.clean(message[1]), intent)
        store.audit(current_staff()["username"], "label", f"event:{event_id}", f"对话 {sender_id} 的一条消息",
                    before={"intent": before["intent"]} if before else None, after={"intent": intent})
    target = url_for(".conversation_detail", sender_id=sender_id, saved=event_id)
    return redirect(f"{target}#m{event_id}")
