"""The console's 审计 page (permission `audit`): every staff action that changed something, newest first, with
who, when, what and the before/after; filtered by user, kind of action and dates, one page at a time in SQL.
The audit trail is never purged with conversations."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, render_template, request

from .. import store
from . import tracker

bp = Blueprint("audit", __name__, url_prefix="/audit")
PAGE_SIZE = 50
ACTION_NAMES = {  # how the page names an action; one not here shows as stored
    "publish": "发布目录", "mark": "标记已核对", "edit": "编辑内容", "label": "标注对话", "merge": "合并标注",
    "retrain": "重新训练", "go_live": "上线模型", "rollback": "回滚", "rating_status": "好差评处理",
    "account_add": "新建账号", "account_role": "修改角色", "account_disable": "停用账号", "account_enable": "启用账号",
    "account_remove": "删除账号", "account_password": "重设密码", "password_change": "修改自己的密码",
}


def actor_name(username: str) -> str:
    """A command-line actor (cli:<system user>) as the page shows it."""
    return f"命令行（{username[4:]}）" if username.startswith("cli:") else username


def _day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


@bp.get("")
def page():
    args = request.args
    username, action = args.get("user", "").strip(), args.get("action", "").strip()
    start_text, end_text = args.get("start", "").strip(), args.get("end", "").strip()
    start, end = _day(start_text), _day(end_text)
    problem = "日期格式应为 年-月-日，格式不对的日期已忽略。" if (start_text and not start) or (end_text and not end) else None
    latest = tracker.today() + dt.timedelta(days=1)
    clamped = [min(max(day, tracker.EARLIEST), latest) if day else None for day in (start, end)]
    if clamped != [start, end]:
        start, end = clamped
        problem = (problem or "") + f"只能查看{tracker.EARLIEST.isoformat()}到明天之间的日期，超出的已改到这个范围内。"
    if start and end and start > end:
        start, end = end, start
    # days in Beijing time, as everywhere in the console; the end day included
    since = dt.datetime.combine(start, dt.time(), tracker.LOCAL).timestamp() if start else None
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tracker.LOCAL).timestamp() if end else None
    total = store.audit_count(username or None, action or None, since, until)
    pages = max(1, -(-total // PAGE_SIZE))
    current = min(max(1, args.get("page", 1, type=int)), pages)
    rows = store.audit_log(PAGE_SIZE, username or None, action or None, since, until, offset=(current - 1) * PAGE_SIZE)
    for row in rows:
        row["when"] = tracker.local(row["at"]).strftime("%Y-%m-%d %H:%M:%S")
        row["who"] = actor_name(row["username"])
        row["what"] = ACTION_NAMES.get(row["action"], row["action"])
    users, actions = store.audit_choices()
    query = {k: v for k, v in {"user": username, "action": action, "start": start.isoformat() if start else "",
                               "end": end.isoformat() if end else ""}.items() if v}
    return render_template("staff/audit.html", rows=rows, total=total, page=current, pages=pages, query=query,
                           users=users, actions=actions, action_names=ACTION_NAMES, problem=problem,
                           user=username, action=action, start=query.get("start", ""), end=query.get("end", ""),
                           actor_name=actor_name)
