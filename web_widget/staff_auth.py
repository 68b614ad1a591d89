"""Staff accounts and sessions: hashed passwords, server-side sessions that expire, CSRF tokens.

Sessions live in the web app's SQLite file, not only in a signed cookie, so logging out or expiring
really ends them (a copied cookie is worthless afterwards).
"""

from __future__ import annotations

import functools
import hmac
import secrets
import time
from typing import Any, Callable

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from . import store

bp = Blueprint("staff_auth", __name__, url_prefix="/staff")
COOKIE = "yishi_staff"
MAX_FAILURES, FAILURE_WINDOW_S = 5, 15 * 60
USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_.-")

def _db():
    return store.connection()


class AccountError(ValueError):
    """A username or password that cannot be used."""


def add_account(username: str, password: str) -> None:
    """Create a staff account (the `yishi staff add` command)."""
    if not username or set(username) - USERNAME_CHARS or len(username) > 40:
        raise AccountError("username: 1–40 characters of a-z, 0-9, '_', '.', '-'")
    if len(password) < 10:
        raise AccountError("password: at least 10 characters")
    db = _db()
    if db.execute("select 1 from staff where username = ?", (username,)).fetchone():
        raise AccountError(f"staff account '{username}' already exists")
    db.execute("insert into staff values (?, ?, ?)", (username, generate_password_hash(password), time.time()))


def _locked(username: str) -> bool:
    db = _db()
    db.execute("delete from staff_failures where at < ?", (time.time() - FAILURE_WINDOW_S,))
    return db.execute("select count(*) from staff_failures where username = ?", (username,)).fetchone()[0] >= MAX_FAILURES


def _authenticate(username: str, password: str) -> bool:
    row = _db().execute("select password_hash from staff where username = ?", (username,)).fetchone()
    # check a hash even for unknown users, so both take the same time
    ok = check_password_hash(row[0] if row else _DUMMY_HASH, password) and row is not None
    if not ok:
        _db().execute("insert into staff_failures values (?, ?)", (username, time.time()))
    return ok


_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


def current_staff() -> dict[str, Any] | None:
    """The logged-in staff member's session, or None; expired sessions are deleted here."""
    if "staff" in g:
        return g.staff
    g.staff = None
    token = request.cookies.get(COOKIE)
    if token:
        db, now = _db(), time.time()
        row = db.execute("select username, csrf, created, seen from staff_sessions where token = ?", (token,)).fetchone()
        config = current_app.config
        if row and now - row[3] <= config["STAFF_IDLE_S"] and now - row[2] <= config["STAFF_MAX_S"]:
            db.execute("update staff_sessions set seen = ? where token = ?", (now, token))
            g.staff = {"username": row[0], "csrf": row[1], "token": token}
        elif row:
            db.execute("delete from staff_sessions where token = ?", (token,))
    return g.staff


def login_required(view: Callable) -> Callable:
    """Pages redirect to the login page; the console's APIs answer 401."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any):
        if current_staff() is None:
            if request.path.startswith("/staff/api/"):
                return jsonify(error="请先登录。"), 401
            return redirect(url_for("staff_auth.login", next=request.path))
        return view(*args, **kwargs)

    wrapped.login_required = True
    return wrapped


def csrf_ok() -> bool:
    staff = current_staff()
    sent = request.form.get("csrf") or request.headers.get("X-CSRF-Token") or ""
    origin = request.headers.get("Origin")
    same_origin = origin is None or origin == request.host_url.rstrip("/")
    return bool(staff) and same_origin and hmac.compare_digest(sent, staff["csrf"])


@bp.before_app_request
def protect_forms():
    """Every state-changing request under /staff (but the login itself) needs the session's CSRF token."""
    if request.path.startswith("/staff") and request.method not in ("GET", "HEAD", "OPTIONS") \
            and request.endpoint != "staff_auth.login" and current_staff() is not None and not csrf_ok():
        return ("请求已过期，请刷新页面后重试。", 400)
    return None


@bp.route("/login", methods=["GET", "POST"])
def login():
    message = None
    if request.method == "POST":
        username = (request.form.get("username") or "").strip().lower()
        password = request.form.get("password") or ""
        if _locked(username):
            message = "登录失败次数过多，请15分钟后再试。"
        elif _authenticate(username, password):
            token, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(32), time.time()
            _db().execute("insert into staff_sessions values (?, ?, ?, ?, ?)", (token, username, csrf, now, now))
            target = request.args.get("next") or ""
            response = redirect(target if target.startswith("/staff") else url_for("staff_auth.home"))
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/staff",
                                secure=current_app.config["SESSION_COOKIE_SECURE"])
            return response
        else:
            message = "用户名或密码不正确。"
    return render_template("staff/login.html", message=message), 200 if message is None else 401


@bp.post("/logout")
@login_required
def logout():
    _db().execute("delete from staff_sessions where token = ?", (current_staff()["token"],))
    response = redirect(url_for("staff_auth.login"))
    response.delete_cookie(COOKIE, path="/staff")
    return response


@bp.get("/")
@login_required
def home():
    return render_template("staff/home.html", staff=current_staff())


@bp.get("/api/me")
@login_required
def me():
    return jsonify(username=current_staff()["username"])
