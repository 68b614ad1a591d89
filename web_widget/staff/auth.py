"""Staff accounts and sessions: roles, hashed passwords, throttled logins, server-side sessions that expire, CSRF.

Passwords are hashed with werkzeug's generate_password_hash default, scrypt (N=32768, r=8, p=1, a random salt;
about 0.1 s a check), and must have at least 10 characters. Sessions live in the web app's store (or Redis), not
only in a signed cookie, so logging out, expiring, or an administrator disabling or removing the account really
ends them; an account's role and state are read again on every request, so a change applies at once.

Logins are throttled per (account, address) pair and, more loosely, per address, never per account alone: an
attacker's wrong passwords cannot keep a colleague at another address out. Each pair has 5 free tries, each
address 20; then every try blocks the pair (address) for 1 minute, doubled for every further try, at most 15
minutes (an hour). Whether a try may go ahead is decided and the try counted in one write transaction, before the
password is checked, so parallel tries get no more than the free ones; a right password forgets the pair's tries.

Every change to an account is recorded in the audit trail (store.audit) with who made it.
"""

from __future__ import annotations

import hmac
import math
import re
import secrets
from typing import Any

from flask import Blueprint, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from .. import store
from ..marks import json_api
from . import roles

bp = Blueprint("auth", __name__)
COOKIE = "yishi_staff"
SAFE_NEXT = re.compile(r"/staff(?:/[\w\-./]*)?")  # a console path: no scheme, host, query, CR or LF
USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_.-")
MIN_PASSWORD = 10
# login throttling: (free tries, first block s, longest block s) per (account, address) pair and per address
PAIR_LIMIT = (5, 60.0, 15 * 60.0)
ADDRESS_LIMIT = (20, 60.0, 60 * 60.0)
FORGET_S = 24 * 3600.0  # tries forgotten after a day without one


class AccountError(ValueError):
    """A username, password or account change that cannot be used (the message says why, in English for the
    command line; the console shows its own Chinese messages by `code`)."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.code = code


def _check_username(username: str) -> None:
    if not username or set(username) - USERNAME_CHARS or len(username) > 40:
        raise AccountError("username: 1–40 characters of a-z, 0-9, '_', '.', '-'", "username")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password: at least {MIN_PASSWORD} characters", "short")


def _role(role: str) -> str:
    key = roles.role_key(role)
    if key is None:
        names = ", ".join(f"{k} ({v})" for k, v in roles.ROLE_NAMES.items())
        raise AccountError(f"role '{role}': choose one of {names}", "role")
    return key


def _existing(username: str) -> dict:
    account = store.staff_account(username)
    if account is None:
        raise AccountError(f"no staff account '{username}'", "missing")
    return account


def _keeps_an_administrator(account: dict, role: str | None = None, disabled: bool | None = None,
                            removed: bool = False) -> None:
    """Refuse a change that would leave no active administrator (nobody could manage accounts in the console)."""
    was_active_admin = account["role"] == "admin" and not account["disabled"]
    stays = not removed and (role or account["role"]) == "admin" and not (
        account["disabled"] if disabled is None else disabled)
    if was_active_admin and not stays and store.active_admins() <= 1:
        raise AccountError(f"'{account['username']}' is the last active administrator", "last_admin")


def add_account(username: str, password: str, role: str = "readonly", by: str = "system") -> None:
    """Create a staff account (the `yishi staff add` command, the 账号 page); role by Chinese or English name."""
    _check_username(username)
    _check_password(password)
    key = _role(role)
    hashed = generate_password_hash(password)
    with store.writing("yishi-accounts"):
        if store.staff_exists(username):
            raise AccountError(f"staff account '{username}' already exists", "exists")
        store.add_staff(username, hashed, key)
        store.audit(by, "account_add", f"staff:{username}", f"新建账号 {username}（{roles.ROLE_NAMES[key]}）",
                    after={"role": key})


def set_role(username: str, role: str, by: str) -> bool:
    """Give an account another role; False when it had that role already."""
    key = _role(role)
    with store.writing("yishi-accounts"):
        account = _existing(username)
        if account["role"] == key:
            return False
        _keeps_an_administrator(account, role=key)
        store.set_role(username, key)
        store.audit(by, "account_role", f"staff:{username}",
                    f"{username}：{roles.ROLE_NAMES.get(account['role'], account['role'])} → {roles.ROLE_NAMES[key]}",
                    before={"role": account["role"]}, after={"role": key})
    return True


def set_disabled(username: str, disabled: bool, by: str) -> bool:
    """Disable an account for a while (its live sessions end, it cannot log in) or enable it again; False when it
    was so already."""
    with store.writing("yishi-accounts"):
        account = _existing(username)
        if account["disabled"] == disabled:
            return False
        _keeps_an_administrator(account, disabled=disabled)
        store.set_disabled(username, disabled)
        store.audit(by, "account_disable" if disabled else "account_enable", f"staff:{username}",
                    f"{'停用' if disabled else '启用'}账号 {username}", before={"disabled": account["disabled"]},
                    after={"disabled": disabled})
    if disabled:
        store.end_sessions(username)
    return True


def remove_account(username: str, by: str) -> None:
    """Remove an account for good (its live sessions end; what it did stays in the audit trail)."""
    with store.writing("yishi-accounts"):
        account = _existing(username)
        _keeps_an_administrator(account, removed=True)
        store.remove_staff(username)
        store.audit(by, "account_remove", f"staff:{username}", f"删除账号 {username}",
                    before={"role": account["role"], "disabled": account["disabled"]})
    store.end_sessions(username)


def reset_password(username: str, password: str, by: str) -> None:
    """Set an account's password (an administrator or the command line); its live sessions end."""
    _check_password(password)
    hashed = generate_password_hash(password)
    with store.writing("yishi-accounts"):
        _existing(username)
        store.set_password_hash(username, hashed)
        store.audit(by, "account_password", f"staff:{username}", f"重设账号 {username} 的密码")
    store.end_sessions(username)


def change_own_password(staff: dict[str, Any], current: str, new: str) -> None:
    """The logged-in staff member changes their password, knowing the current one (checked and throttled like a
    login); their other sessions end, this one stays."""
    _check_password(new)
    username = staff["username"]
    if _throttled(username):
        raise AccountError("too many tries", "throttled")
    if not _password_ok(username, current):
        raise AccountError("the current password is wrong", "wrong")
    hashed = generate_password_hash(new)
    with store.writing("yishi-accounts"):
        store.set_password_hash(username, hashed)
        store.audit(username, "password_change", f"staff:{username}", f"{username} 修改了自己的密码")
    store.end_sessions(username, keep=staff["token"])


# --- checking passwords, throttled --------------------------------------------------------------------------------

def _address() -> str:
    return request.remote_addr or "unknown"


def _pair(username: str) -> str:
    return f"pair:{username[:64]}|{_address()}"


def _throttled(username: str) -> float:
    """Take one try for (username, this address) and this address: 0 when it may go ahead, else seconds to wait."""
    wait = store.take_login_try([(_pair(username), *PAIR_LIMIT), (f"address:{_address()}", *ADDRESS_LIMIT)],
                                FORGET_S)
    if wait:
        current_app.logger.info("staff login throttled: account %r from %s for %.0f s", username[:64], _address(), wait)
    return wait


def _password_ok(username: str, password: str) -> bool:
    """The password is the account's (a hash is checked even for unknown users, so both take the same time);
    a right one forgets the tries of (username, this address)."""
    stored = store.password_hash(username)
    ok = check_password_hash(stored or _DUMMY_HASH, password) and stored is not None
    if ok:
        store.login_succeeded(_pair(username), [(f"address:{_address()}", ADDRESS_LIMIT[0])])
    return ok


_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


def _wait_text(seconds: float) -> str:
    return f"{math.ceil(seconds)} 秒" if seconds < 120 else f"{math.ceil(seconds / 60)} 分钟"


# --- sessions and the request's staff member -----------------------------------------------------------------------

def current_staff() -> dict[str, Any] | None:
    """The logged-in staff member (username, csrf, token, role, role_name, permissions), or None; expired sessions,
    and sessions of an account that is disabled or gone, are ended here."""
    if "staff" not in g:
        token = request.cookies.get(COOKIE)
        config = current_app.config
        session = store.live_session(token, config["STAFF_IDLE_S"], config["STAFF_MAX_S"]) if token else None
        account = store.staff_account(session["username"]) if session else None
        if session and (account is None or account["disabled"]):
            store.close_session(token)
            session = None
        if session:
            session |= {"role": account["role"], "role_name": roles.ROLE_NAMES.get(account["role"], account["role"]),
                        "permissions": roles.ROLES.get(account["role"], frozenset())}
        g.staff = session
    return g.staff


def can(permission: str) -> bool:
    """The logged-in staff member has this permission (for templates: show only what one may use)."""
    staff = current_staff()
    return bool(staff) and permission in staff["permissions"]


def same_origin() -> bool:
    """The request comes from the console's own pages (browsers send Origin with every POST)."""
    origin = request.headers.get("Origin")
    return origin is None or origin == request.host_url.rstrip("/")


def csrf_ok() -> bool:
    staff = current_staff()
    sent = request.form.get("csrf") or request.headers.get("X-CSRF-Token") or ""
    return bool(staff) and same_origin() and hmac.compare_digest(sent, staff["csrf"])


@bp.route("/login", methods=["GET", "POST"])
def login():
    message, status = None, 200
    if request.method == "POST" and not same_origin():
        return ("请从一事工作台的登录页登录。", 400)  # a login posted from another site (login CSRF)
    if request.method == "POST":
        username = (request.form.get("username") or "").strip().lower()
        password = request.form.get("password") or ""
        wait = _throttled(username)
        if wait:
            message, status = f"登录尝试次数过多，请 {_wait_text(wait)}后再试。", 429
        elif _password_ok(username, password):
            account = store.staff_account(username)
            if account is None:  # removed in the meantime
                message, status = "用户名或密码不正确。", 401
            elif account["disabled"]:
                message, status = "这个账号已停用，请联系管理员。", 403
            else:
                token = secrets.token_urlsafe(32)
                store.open_session(token, username, secrets.token_urlsafe(32))
                target = request.args.get("next") or ""
                response = redirect(target if SAFE_NEXT.fullmatch(target) else url_for("staff.auth.home"))
                response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/staff",
                                    secure=current_app.config["SESSION_COOKIE_SECURE"])
                return response
        else:
            message, status = "用户名或密码不正确。", 401
    response = current_app.make_response((render_template("staff/login.html", message=message), status))
    if status == 429:
        response.headers["Retry-After"] = str(math.ceil(wait))
    return response


@bp.post("/logout")
def logout():
    store.close_session(current_staff()["token"])
    response = redirect(url_for("staff.auth.login"))
    response.delete_cookie(COOKIE, path="/staff")
    return response


PASSWORD_MESSAGES = {"short": f"新密码至少要 {MIN_PASSWORD} 个字符。", "wrong": "当前密码不正确。",
                     "throttled": "尝试次数过多，请稍后再试。", "differ": "两次输入的新密码不一致。"}


@bp.route("/password", methods=["GET", "POST"])
def password():
    """修改密码: every staff member changes their own password, giving the current one."""
    problem, status = None, 200
    if request.method == "POST":
        new = request.form.get("new") or ""
        try:
            if new != (request.form.get("again") or ""):
                raise AccountError("the new passwords differ", "differ")
            change_own_password(current_staff(), request.form.get("current") or "", new)
        except AccountError as exc:
            problem, status = PASSWORD_MESSAGES.get(exc.code, "没能修改密码。"), 429 if exc.code == "throttled" else 400
        else:
            flash("密码已修改；您在其他地方的登录已退出。", "ok")
            return redirect(url_for(".password"))
    return render_template("staff/password.html", problem=problem, min_password=MIN_PASSWORD), status


@bp.get("/")
def home():
    return render_template("staff/home.html")


@bp.get("/api/me")
@json_api
def me():
    staff = current_staff()
    return jsonify(username=staff["username"], role=staff["role"], permissions=sorted(staff["permissions"]))
