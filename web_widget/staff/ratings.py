"""Staff console, 好差评: every 差评 with its conversation, an owner, a status that only moves forward
(待处理 → 已整改 → 已回复, each step in the audit trail) and the date it is due, overdue ones first.

Reading is for anyone with the console (`view`); assigning and moving a status change the follow-up (`ratings`).
The satisfaction figures per bundle and week are on the 需求 and 质量 pages (web_widget.ratings tallies them).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for

from catalogue import workdays

from .. import ratings, store
from ..marks import json_api
from .auth import current_staff
from .names import bundle_names

bp = Blueprint("ratings", __name__)
NOTE_MAX = 500


def complaints(today: dt.date) -> list[dict[str, Any]]:
    """Every 差评 with its due date; overdue first, then the open ones by due date, then the closed ones."""
    found = []
    for row in store.poor_ratings():
        opened = ratings.day_of(row["opened"])
        due = ratings.due(opened)
        closed = row["status"] == ratings.CLOSED
        found.append(row | {"opened_day": opened, "due": due.date, "due_estimated": due.estimated, "closed": closed,
                            "overdue": not closed and today > due.date,
                            "overdue_days": (today - due.date).days if not closed else 0,
                            "next": ratings.NEXT_STATUS.get(row["status"])})
    found.sort(key=lambda r: (r["closed"], not r["overdue"], r["due"], r["opened"], r["id"]))
    return found


@bp.get("/ratings")
def page():
    today = workdays.today()
    shown = complaints(today)
    counts = {status: sum(1 for r in shown if r["status"] == status) for status in ratings.STATUSES}
    return render_template("staff/ratings.html", complaints=shown, counts=counts, today=today,
                           overdue=sum(1 for r in shown if r["overdue"]), names=bundle_names(),
                           owners=store.staff_usernames(), levels=ratings.LEVELS, reasons=ratings.REASONS,
                           statuses=ratings.STATUSES, due_days=ratings.DUE_WORKING_DAYS)


@bp.get("/api/ratings")
@json_api
def api():
    today = workdays.today()
    return jsonify(today=today.isoformat(), complaints=[{
        "id": r["id"], "conversation": r["conversation"], "bundle": r["bundle"], "level": r["level"],
        "label": ratings.LEVELS[r["level"]], "reasons": r["reasons"], "text": r["text"],
        "rated_at": ratings.day_of(r["at"]).isoformat(), "opened": r["opened_day"].isoformat(),
        "status": r["status"], "status_label": ratings.STATUSES[r["status"]], "owner": r["owner"], "note": r["note"],
        "due": r["due"].isoformat(), "due_estimated": r["due_estimated"], "overdue": r["overdue"]}
        for r in complaints(today)])


def _back(rating_id: int | None):
    return redirect(url_for(".page") + (f"#rating-{rating_id}" if rating_id else ""))


@bp.post("/ratings/owner")
def assign():
    rating_id = request.form.get("id", type=int)
    owner = (request.form.get("owner") or "").strip().lower()
    try:
        if rating_id is None:
            raise store.FollowUpError("没有找到这条差评。")
        store.assign_rating(rating_id, owner, current_staff()["username"])
        flash(f"差评 #{rating_id} 已指派给 {owner}。", "ok")
    except store.FollowUpError as exc:
        flash(str(exc), "bad")
    return _back(rating_id)


@bp.post("/ratings/status")
def advance():
    rating_id = request.form.get("id", type=int)
    to = request.form.get("to") or ""
    note = " ".join((request.form.get("note") or "").split())
    try:
        if rating_id is None:
            raise store.FollowUpError("没有找到这条差评。")
        if len(note) > NOTE_MAX:
            raise store.FollowUpError(f"说明有{len(note)}个字，请精简到{NOTE_MAX}字以内。")
        store.advance_rating(rating_id, to, note, current_staff()["username"])
        flash(f"差评 #{rating_id} 已标记为“{ratings.STATUSES[to]}”。", "ok")
    except store.FollowUpError as exc:
        flash(str(exc), "bad")
    return _back(rating_id)
