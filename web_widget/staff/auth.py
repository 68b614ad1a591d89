"""Staff accounts and sessions: hashed passwords, server-side sessions that expire, CSRF tokens.

Sessions live in the web app's SQLite file (web_widget.store), not only in a signed cookie, so
logging out or expiring really ends them (a copied cookie is worthless afterwards).
"""

from __future__ import annotations

import hmac
import re
import secrets
from typing import Any

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request, url_for
from werkzeug.security import check_password_hash, generate_password_hash

from .. import store
from ..marks import json_api

bp = Blueprint("auth", __name__)
COOKIE = "yishi_staff"
SAFE_NEXT = re.compile(r"/staff(?:/[\w\-./]*)?")  # a console path: no scheme, host, query, CR or LF
MAX_FAILURES, FAILURE_WINDOW_S = 5, 15 * 60
USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_.-")




class AccountError(ValueError):
    """A username or password that cannot be used."""


def add_account(username: str, password: str) -> None:
    """Create a staff account (the `yishi staff add` command)."""
    if not username or set(username) - USERNAME_CHARS or len(username) > 40:
        raise AccountError("username: 1–40 characters of a-z, 0-9, '_', '.', '-'")
    if len(password) < 10:
        raise AccountError("password: at least 10 characters")
    if store.staff_exists(username):
        raise AccountError(f"staff account '{username}' already exists")
    store.add_staff(username, generate_password_hash(password))


def _authenticate(username: str, password: str) -> bool:
    stored = store.password_hash(username)
    # check a hash even for unknown users, so both take the same time
    ok = check_password_hash(stored or _DUMMY_HASH, password) and stored is not None
    if not ok:
        store.add_failure(username)
    return ok


_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


def current_staff() -> dict[str, Any] | None:
    """The logged-in staff member's session, or None; expired sessions are deleted here."""
    if "staff" not in g:
        token = request.cookies.get(COOKIE)
        config = current_app.config
        g.staff = store.live_session(token, config["STAFF_IDLE_S"], config["STAFF_MAX_S"]) if token else None
    return g.staff


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
    message = None
    if request.method == "POST" and not same_origin():
        return ("请从一事工作台的登录页登录。", 400)  # a login posted from another site (login CSRF)
    if request.method == "POST":
        username = (request.form.get("username") or "").strip().lower()
        password = request.form.get("password") or ""
        if store.recent_failures(username, FAILURE_WINDOW_S) >= MAX_FAILURES:
            message = "登录失败次数过多，请15分钟后再试。"
        elif _authenticate(username, password):
            token = secrets.token_urlsafe(32)
            store.open_session(token, username, secrets.token_urlsafe(32))
            target = request.args.get("next") or ""
            response = redirect(target if SAFE_NEXT.fullmatch(target) else url_for("staff.auth.home"))
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/staff",
                                secure=current_app.config["SESSION_COOKIE_SECURE"])
            return response
        else:
            message = "用户名或密码不正确。"
    return render_template("staff/login.html", message=message), 200 if message is None else 401


@bp.post("/logout")
def logout():
    store.close_session(current_staff()["token"])
    response = redirect(url_for("staff.auth.login"))
    response.delete_cookie(COOKIE, path="/staff")
    return response


@bp.get("/")
def home():
    return render_template("staff/home.html")


@bp.get("/api/me")
@json_api
def me():
    return jsonify(username=current_staff()["username"])
