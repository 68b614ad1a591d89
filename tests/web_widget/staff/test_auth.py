"""Staff login: hashed passwords, server-side sessions that expire, CSRF, every route protected (roles and
throttling: test_roles.py, test_throttle.py)."""

from __future__ import annotations

import io
import time
from urllib.parse import quote

import pytest

from web_widget import create_app, store
from web_widget.marks import is_json_api
from web_widget.staff import auth

from .conftest import PASSWORD


@pytest.fixture
def app(mini_db, tmp_path):
    app = create_app({"TESTING": True, "CATALOGUE_DB": str(mini_db), "WEB_DB": str(tmp_path / "web.db"),
                      "SECRET_KEY": "test"})
    with app.app_context():
        auth.add_account("wang.li", PASSWORD)
    return app


def test_accounts_are_validated_and_stored_hashed(app):
    with app.app_context():
        with pytest.raises(auth.AccountError, match="already exists"):
            auth.add_account("wang.li", PASSWORD)
        with pytest.raises(auth.AccountError, match="at least 10"):
            auth.add_account("li.na", "short")
        with pytest.raises(auth.AccountError, match="username"):
            auth.add_account("李娜", PASSWORD)
        stored = store.connection().exec_driver_sql("select password_hash from staff").scalar_one()
    assert PASSWORD not in stored and stored.startswith(("scrypt:", "pbkdf2:"))


def test_login_sets_a_strict_http_only_cookie_and_opens_the_console(app, login):
    client = app.test_client()
    response = login(client)
    assert response.status_code == 302 and response.headers["Location"] == "/staff/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/staff" in cookie
    assert "已登录：wang.li" in client.get("/staff/").get_data(as_text=True)
    assert client.get("/staff/api/me").json == {"username": "wang.li", "role": "readonly", "permissions": ["view"]}


def test_wrong_password_and_unknown_user_look_the_same(app, login):
    client = app.test_client()
    wrong, unknown = login(client, password="nope nope nope"), login(client, username="nobody")
    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码不正确。" in wrong.get_data(as_text=True) and "用户名或密码不正确。" in unknown.get_data(as_text=True)


def test_anonymous_requests_are_refused_on_every_console_route(app):
    client = app.test_client()
    routes = [r for r in app.url_map.iter_rules() if r.rule.startswith("/staff")
              and r.endpoint not in ("staff.auth.login", "staff.static")]
    assert len(routes) > 15
    for rule in routes:
        assert rule.endpoint.startswith("staff."), rule.endpoint  # under the parent blueprint's guard
        assert is_json_api(app.view_functions[rule.endpoint]) == rule.rule.startswith("/staff/api/"), rule.rule
        method = "POST" if "POST" in rule.methods else "GET"
        response = client.open(rule.build({arg: "x" for arg in rule.arguments})[1], method=method)
        expected = 401 if rule.rule.startswith("/staff/api/") else 302
        assert response.status_code == expected, rule.rule


def test_forms_need_the_csrf_token_and_logout_ends_the_session_for_good(app, csrf_of, login):
    client = app.test_client()
    login(client)
    assert client.post("/staff/logout").status_code == 400
    assert client.post("/staff/logout", data={"csrf": "forged"}).status_code == 400
    assert client.post("/staff/logout", data={"csrf": csrf_of(client)},
                       headers={"Origin": "https://evil.example"}).status_code == 400
    token = client.get_cookie("yishi_staff", path="/staff").value
    assert client.post("/staff/logout", data={"csrf": csrf_of(client)}).status_code == 302
    replay = app.test_client()
    replay.set_cookie("yishi_staff", token, path="/staff")
    assert replay.get("/staff/api/me").status_code == 401  # a copied cookie is worthless after logout


def test_sessions_expire_when_idle_on_the_server(app, login):
    client = app.test_client()
    login(client)
    assert client.get("/staff/api/me").status_code == 200
    with app.app_context():
        store.connection().exec_driver_sql("update staff_sessions set seen = ?", (time.time() - 31 * 60,))
    assert client.get("/staff/api/me").status_code == 401


def test_the_staff_add_command(tmp_path, monkeypatch, capsys):
    from web_widget.cli import main

    monkeypatch.setenv("YISHI_WEB_DB", str(tmp_path / "web.db"))
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main(["staff", "add", "zhang.san", "--role", "内容编辑", "--password-stdin"]) == 0
    assert capsys.readouterr().out == "staff account 'zhang.san' created (editor)\n"
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main(["staff", "add", "zhang.san", "--role", "editor", "--password-stdin"]) == 1
    assert "already exists" in capsys.readouterr().err


def test_the_login_redirect_takes_console_paths_only(app):
    for target, expected in (("/staff/demand", "/staff/demand"), ("/staff\r\nSet-Cookie: x=1", "/staff/"),
                             ("//evil.example/staff", "/staff/"), ("https://evil.example", "/staff/"),
                             ("/staff/conversations?bundle=gym", "/staff/")):
        client = app.test_client()
        response = client.post("/staff/login?next=" + quote(target), data={"username": "wang.li", "password": PASSWORD})
        assert response.status_code == 302 and response.headers["Location"] == expected, target


def test_a_login_posted_from_another_site_is_refused(app):
    client = app.test_client()
    foreign = client.post("/staff/login", data={"username": "wang.li", "password": PASSWORD},
                          headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 400 and client.get_cookie("yishi_staff", path="/staff") is None
    own = client.post("/staff/login", data={"username": "wang.li", "password": PASSWORD},
                      headers={"Origin": "http://localhost"})
    assert own.status_code == 302


def test_console_pages_are_never_cached(app, login):
    client = app.test_client()
    login(client)
    for path in ("/staff/", "/staff/api/me", "/staff/login"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
