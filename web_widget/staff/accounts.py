"""The console's 账号 page (permission `accounts`, the 管理员): staff accounts with their role and state; adding
one, changing its role, disabling or enabling it, removing it and setting its password. The work (checks,
audit trail, ending sessions) is auth's, shared with the `yishi staff …` commands."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, redirect, render_template, request, url_for

from .. import store
from . import auth, roles
from .auth import AccountError, current_staff

bp = Blueprint("accounts", __name__, url_prefix="/accounts")
MESSAGES = {
    "username": "用户名只能是 1–40 个小写字母、数字或“_”“.”“-”。",
    "short": f"密码至少要 {auth.MIN_PASSWORD} 个字符。",
    "differ": "两次输入的密码不一致。",
    "role": "请从列表中选择角色。",
    "exists": "已经有这个用户名的账号了。",
    "missing": "没有这个账号（可能刚被删除）。",
    "last_admin": "这是最后一个在用的管理员账号：不能停用、删除或改成其他角色，否则就没有人能管理账号了。",
    "self": "不能停用、删除自己的账号或修改自己的角色，请另一位管理员操作；自己的密码请在“修改密码”里修改。",
    "confirm": "删除账号前请勾选确认。",
}


def _when(at: float | None) -> str:
    return dt.datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M") if at else "—"


def _page(problem: str | None = None, status: int = 200):
    accounts = [a | {"created_text": _when(a["created"]), "password_text": _when(a["password_changed"])}
                for a in store.staff_accounts()]
    return render_template("staff/accounts.html", accounts=accounts, roles=roles.ROLE_NAMES,
                           permissions=roles.ROLES, problem=problem, min_password=auth.MIN_PASSWORD), status


def _done(message: str):
    flash(message, "ok")
    return redirect(url_for(".page"))


def _refused(exc: AccountError):
    return _page(MESSAGES.get(exc.code, "没能完成这项修改。"), 404 if exc.code == "missing" else 400)


def _not_self(username: str) -> None:
    if username == current_staff()["username"]:
        raise AccountError("an administrator's own account is changed by another one", "self")


def _new_password() -> str:
    password = request.form.get("password") or ""
    if password != (request.form.get("again") or ""):
        raise AccountError("the passwords differ", "differ")
    return password


@bp.get("")
def page():
    return _page()


@bp.post("/add")
def add():
    username = (request.form.get("username") or "").strip().lower()
    role = request.form.get("role") or ""
    try:
        auth.add_account(username, _new_password(), role if role in roles.ROLES else "?", by=current_staff()["username"])
    except AccountError as exc:
        return _refused(exc)
    return _done(f"已新建账号 {username}（{roles.ROLE_NAMES[role]}）。请把密码当面或电话告诉本人，并请他登录后修改。")


@bp.post("/<username>/role")
def role(username: str):
    chosen = request.form.get("role") or ""
    try:
        _not_self(username)
        changed = auth.set_role(username, chosen if chosen in roles.ROLES else "?", by=current_staff()["username"])
    except AccountError as exc:
        return _refused(exc)
    return _done(f"{username} 的角色已改为{roles.ROLE_NAMES[chosen]}，立即生效。" if changed
                 else f"{username} 的角色本来就是{roles.ROLE_NAMES[chosen]}，没有改动。")


@bp.post("/<username>/disable")
def disable(username: str):
    try:
        _not_self(username)
        changed = auth.set_disabled(username, True, by=current_staff()["username"])
    except AccountError as exc:
        return _refused(exc)
    return _done(f"已停用 {username}：它的登录已全部退出，启用前不能再登录。" if changed else f"{username} 本来就是停用的。")


@bp.post("/<username>/enable")
def enable(username: str):
    try:
        changed = auth.set_disabled(username, False, by=current_staff()["username"])
    except AccountError as exc:
        return _refused(exc)
    return _done(f"已启用 {username}，可以重新登录。" if changed else f"{username} 本来就是启用的。")


@bp.post("/<username>/remove")
def remove(username: str):
    try:
        _not_self(username)
        if request.form.get("confirm") != "yes":
            raise AccountError("not confirmed", "confirm")
        auth.remove_account(username, by=current_staff()["username"])
    except AccountError as exc:
        return _refused(exc)
    return _done(f"已删除账号 {username}；它做过的操作仍保留在审计记录里。")


@bp.post("/<username>/password")
def reset_password(username: str):
    try:
        _not_self(username)
        auth.reset_password(username, _new_password(), by=current_staff()["username"])
    except AccountError as exc:
        return _refused(exc)
    return _done(f"已重设 {username} 的密码，它的登录已全部退出。请把新密码告诉本人，并请他登录后修改。")
