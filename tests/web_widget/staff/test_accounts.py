"""Staff accounts (issue 16, req 4): the 账号 page, 修改密码, the `yishi staff …` commands, sessions that end
when an account is disabled, removed or given a new password (both session stores), every change audited, and
the migration of a staff table made before roles."""

from __future__ import annotations

import getpass
import io
import json
import re

import pytest
import redis
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from web_widget import create_app, store
from web_widget.staff import auth

from .conftest import PASSWORD

NEW_PASSWORD = "another long password"


@pytest.fixture
def profile(store_profile):
    """(profile, config) of a store: the SQLite file with sessions in it, or PostgreSQL with sessions in Redis."""
    return store_profile


@pytest.fixture
def app(mini_db, tmp_path):
    app = create_app({"TESTING": True, "CATALOGUE_DB": str(mini_db), "WEB_DB": str(tmp_path / "web.db"),
                      "SECRET_KEY": "test"})
    with app.app_context():
        auth.add_account("an.admin", PASSWORD, "管理员")
        auth.add_account("wang.li", PASSWORD, "只读")
    return app


def signed_in(app, login, username="an.admin", password=PASSWORD):
    client = app.test_client()
    assert login(client, username, password).status_code == 302
    client.csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/staff/").get_data(as_text=True)).group(1)
    return client


def trail(app, **filters) -> list[tuple]:
    with app.app_context():
        return [(r["username"], r["action"], r["target"], r["before"], r["after"])
                for r in reversed(store.audit_log(**filters))]


def account(app, username: str) -> dict | None:
    with app.app_context():
        return store.staff_account(username)


def test_an_administrator_manages_accounts_in_the_console_and_every_change_is_audited(app, login):
    admin = signed_in(app, login)
    page = admin.get("/staff/accounts").get_data(as_text=True)
    assert "wang.li" in page and "新建账号" in page and "角色能做什么" in page
    post = lambda path, **form: admin.post(path, data={"csrf": admin.csrf, **form})  # noqa: E731
    added = post("/staff/accounts/add", username="Li.Na", role="reviewer", password=NEW_PASSWORD, again=NEW_PASSWORD)
    assert added.status_code == 302
    assert "已新建账号 li.na（审核员）" in admin.get("/staff/accounts").get_data(as_text=True)
    assert signed_in(app, login, "li.na", NEW_PASSWORD).get("/staff/api/me").json["role"] == "reviewer"
    assert post("/staff/accounts/li.na/role", role="editor").status_code == 302
    assert post("/staff/accounts/li.na/disable").status_code == 302
    assert account(app, "li.na")["disabled"] and login(app.test_client(), "li.na", NEW_PASSWORD).status_code == 403
    assert post("/staff/accounts/li.na/enable").status_code == 302
    assert post("/staff/accounts/li.na/password", password=PASSWORD, again=PASSWORD).status_code == 302
    assert login(app.test_client(), "li.na", NEW_PASSWORD).status_code == 401
    assert login(app.test_client(), "li.na", PASSWORD).status_code == 302
    assert post("/staff/accounts/li.na/remove").status_code == 400  # not confirmed
    assert post("/staff/accounts/li.na/remove", confirm="yes").status_code == 302
    assert account(app, "li.na") is None and login(app.test_client(), "li.na", PASSWORD).status_code == 401
    assert trail(app, username="an.admin") == [
        ("an.admin", "account_add", "staff:li.na", None, '{"role": "reviewer"}'),
        ("an.admin", "account_role", "staff:li.na", '{"role": "reviewer"}', '{"role": "editor"}'),
        ("an.admin", "account_disable", "staff:li.na", '{"disabled": false}', '{"disabled": true}'),
        ("an.admin", "account_enable", "staff:li.na", '{"disabled": true}', '{"disabled": false}'),
        ("an.admin", "account_password", "staff:li.na", None, None),  # never a hash
        ("an.admin", "account_remove", "staff:li.na", '{"disabled": false, "role": "editor"}', None),
    ]


def test_the_account_forms_refuse_what_cannot_be_done(app, login):
    admin = signed_in(app, login)
    post = lambda path, **form: admin.post(path, data={"csrf": admin.csrf, **form})  # noqa: E731
    cases = [
        (post("/staff/accounts/add", username="李娜", role="editor", password=NEW_PASSWORD, again=NEW_PASSWORD),
         400, "用户名只能是"),
        (post("/staff/accounts/add", username="li.na", role="root", password=NEW_PASSWORD, again=NEW_PASSWORD),
         400, "请从列表中选择角色"),
        (post("/staff/accounts/add", username="li.na", role="editor", password="short", again="short"),
         400, "至少要 10 个字符"),
        (post("/staff/accounts/add", username="li.na", role="editor", password=NEW_PASSWORD, again=PASSWORD),
         400, "两次输入的密码不一致"),
        (post("/staff/accounts/add", username="wang.li", role="editor", password=NEW_PASSWORD, again=NEW_PASSWORD),
         400, "已经有这个用户名的账号了"),
        (post("/staff/accounts/nobody/disable"), 404, "没有这个账号"),
        (post("/staff/accounts/an.admin/disable"), 400, "不能停用、删除自己的账号"),
        (post("/staff/accounts/an.admin/role", role="readonly"), 400, "不能停用、删除自己的账号"),
        (post("/staff/accounts/an.admin/remove", confirm="yes"), 400, "不能停用、删除自己的账号"),
        (post("/staff/accounts/an.admin/password", password=NEW_PASSWORD, again=NEW_PASSWORD), 400, "修改密码"),
    ]
    for response, status, message in cases:
        assert (response.status_code, message in response.get_data(as_text=True)) == (status, True), message
    assert account(app, "li.na") is None and trail(app, username="an.admin") == []
    assert account(app, "an.admin") == account(app, "an.admin") | {"role": "admin", "disabled": False}


def test_the_last_active_administrator_stays(profile):
    app = create_app(profile[1])
    with app.app_context():
        auth.add_account("an.admin", PASSWORD, "管理员")
        for change in (lambda: auth.set_role("an.admin", "editor", by="cli:root"),
                       lambda: auth.set_disabled("an.admin", True, by="cli:root"),
                       lambda: auth.remove_account("an.admin", by="cli:root")):
            with pytest.raises(auth.AccountError, match="last active administrator"):
                change()
        auth.add_account("second.admin", PASSWORD, "admin")
        auth.set_disabled("second.admin", True, by="an.admin")
        with pytest.raises(auth.AccountError, match="last active administrator"):
            auth.set_role("an.admin", "readonly", by="cli:root")  # the other one is disabled
        auth.set_disabled("second.admin", False, by="an.admin")
        assert auth.set_role("an.admin", "readonly", by="second.admin")
        assert store.active_admins() == 1


def test_everyone_changes_their_own_password_knowing_the_current_one(app, login, csrf_of):
    here, elsewhere = signed_in(app, login, "wang.li"), signed_in(app, login, "wang.li")
    assert "修改密码" in here.get("/staff/password").get_data(as_text=True)
    change = lambda current, new, again=None: here.post("/staff/password", data={  # noqa: E731
        "csrf": here.csrf, "current": current, "new": new, "again": new if again is None else again})
    for response, message in ((change("wrong password!", NEW_PASSWORD), "当前密码不正确"),
                              (change(PASSWORD, "short"), "新密码至少要 10 个字符"),
                              (change(PASSWORD, NEW_PASSWORD, "typo typo typo"), "两次输入的新密码不一致")):
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert here.post("/staff/password", data={"current": PASSWORD, "new": NEW_PASSWORD, "again": NEW_PASSWORD}
                     ).status_code == 400  # no CSRF token
    done = change(PASSWORD, NEW_PASSWORD)
    assert done.status_code == 302 and "密码已修改" in here.get("/staff/password").get_data(as_text=True)
    assert here.get("/staff/api/me").status_code == 200 and elsewhere.get("/staff/api/me").status_code == 401
    assert login(app.test_client(), "wang.li", PASSWORD).status_code == 401
    assert login(app.test_client(), "wang.li", NEW_PASSWORD).status_code == 302
    assert trail(app, username="wang.li") == [("wang.li", "password_change", "staff:wang.li", None, None)]
    with app.app_context():
        assert store.staff_account("wang.li")["password_changed"] > store.staff_account("wang.li")["created"]


def test_guessing_the_current_password_is_throttled_like_a_login(app, login):
    here = signed_in(app, login, "wang.li")
    statuses = [here.post("/staff/password", data={"csrf": here.csrf, "current": f"guess number {i}",
                                                   "new": NEW_PASSWORD, "again": NEW_PASSWORD}).status_code
                for i in range(auth.PAIR_LIMIT[0] + 1)]
    assert statuses == [400] * auth.PAIR_LIMIT[0] + [429]


def test_disabling_removing_or_resetting_an_account_ends_its_sessions_in_either_store(profile, login):
    name, config = profile
    app = create_app(config)
    with app.app_context():
        auth.add_account("an.admin", PASSWORD, "admin")
        auth.add_account("wang.li", PASSWORD, "readonly")
    admin = signed_in(app, login)

    def sessions_of_wang_li() -> int:
        if name == "city":
            shared = redis.Redis.from_url(config["REDIS_URL"], decode_responses=True)
            return sum(shared.hget(k, "username") == "wang.li" for k in shared.keys("yishi:staff_session:*"))
        with app.app_context():
            return store.connection().execute(sa.text("select count(*) from staff_sessions where username = 'wang.li'")
                                              ).scalar_one()

    for change, form in (("disable", {}), ("password", {"password": NEW_PASSWORD, "again": NEW_PASSWORD}),
                         ("remove", {"confirm": "yes"})):
        password = NEW_PASSWORD if change == "remove" else PASSWORD
        if change == "password":
            admin.post("/staff/accounts/wang.li/enable", data={"csrf": admin.csrf})
        clients = [signed_in(app, login, "wang.li", password) for _ in range(2)] if change != "disable" else \
            [signed_in(app, login, "wang.li") for _ in range(2)]
        assert sessions_of_wang_li() == 2
        assert admin.post(f"/staff/accounts/wang.li/{change}", data={"csrf": admin.csrf, **form}).status_code == 302
        assert [c.get("/staff/api/me").status_code for c in clients] == [401, 401], change
        assert sessions_of_wang_li() == 0, change
    assert admin.get("/staff/api/me").status_code == 200  # the administrator's own session goes on
    if name == "city":
        assert not redis.Redis.from_url(config["REDIS_URL"]).exists("yishi:staff_sessions_of:wang.li")


def test_a_session_of_an_account_disabled_behind_its_back_is_refused(app, login):
    """Even a session that outlived the ending (say, opened while the account was being disabled) is refused:
    the account's state is read on every request."""
    client = signed_in(app, login, "wang.li")
    with app.app_context():
        store.set_disabled("wang.li", True)  # straight into the table, no session ended
    assert client.get("/staff/api/me").status_code == 401


def test_the_staff_commands(tmp_path, monkeypatch, capsys):
    from web_widget.cli import main

    monkeypatch.setenv("YISHI_WEB_DB", str(tmp_path / "web.db"))
    me = "cli:" + getpass.getuser()

    def run(*argv: str, password: str | None = None) -> tuple[int, str, str]:
        if password is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
        code = main(["staff", *argv])
        out, err = capsys.readouterr()
        return code, out, err

    assert run("add", "zhao.min", "--role", "管理员", "--password-stdin", password=PASSWORD)[:2] == \
        (0, "staff account 'zhao.min' created (admin)\n")
    assert run("add", "qian.li", "--role", "reviewer", "--password-stdin", password=PASSWORD)[0] == 0
    code, _, err = run("add", "sun.wu", "--role", "boss", "--password-stdin", password=PASSWORD)
    assert code == 1 and "role 'boss': choose one of admin (管理员), editor (内容编辑)" in err
    assert run("add", "sun.wu", "--role", "editor", "--password-stdin", password="short")[2] == \
        "password: at least 10 characters\n"
    with pytest.raises(SystemExit):  # --role is required
        main(["staff", "add", "sun.wu", "--password-stdin"])
    capsys.readouterr()
    assert run("role", "qian.li", "只读")[1] == "'qian.li' is now readonly\n"
    assert run("role", "qian.li", "readonly")[1] == "'qian.li' was readonly already\n"
    assert run("disable", "qian.li")[1] == "'qian.li' disabled\n"
    assert run("list")[1] == "qian.li\treadonly\t只读\tdisabled\nzhao.min\tadmin\t管理员\tactive\n"
    assert run("enable", "qian.li")[1] == "'qian.li' enabled\n"
    assert run("passwd", "qian.li", "--password-stdin", password=NEW_PASSWORD)[0] == 0
    assert run("disable", "zhao.min")[2] == "'zhao.min' is the last active administrator\n"
    assert run("remove", "nobody")[:1] == (1,)
    assert run("remove", "qian.li")[1] == "staff account 'qian.li' removed; its sessions ended\n"
    app = create_app({"TESTING": True, "WEB_DB": str(tmp_path / "web.db"), "SECRET_KEY": "test"})
    with app.app_context():
        assert [a["username"] for a in store.staff_accounts()] == ["zhao.min"]
        rows = list(reversed(store.audit_log()))
    assert {r["username"] for r in rows} == {me}
    assert [r["action"] for r in rows] == ["account_add", "account_add", "account_role", "account_disable",
                                           "account_enable", "account_password", "account_remove"]
    assert json.loads(rows[2]["before"]) == {"role": "reviewer"} and json.loads(rows[2]["after"]) == {"role": "readonly"}


def test_passwords_never_come_from_the_arguments(tmp_path, monkeypatch, capsys):
    from web_widget.cli import main

    monkeypatch.setenv("YISHI_WEB_DB", str(tmp_path / "web.db"))
    with pytest.raises(SystemExit):
        main(["staff", "add", "zhao.min", "--role", "admin", "--password", PASSWORD])
    typed = iter([PASSWORD, "not the same password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(typed))
    assert main(["staff", "add", "zhao.min", "--role", "admin"]) == 1
    assert "the passwords differ" in capsys.readouterr().err


def test_a_staff_table_made_before_roles_gets_them_and_its_accounts_stay_administrators(profile, login):
    _, config = profile
    place = config["WEB_DB"]
    from yishi import db as databases

    with databases.writing(place, "test") as connection:  # the staff table as the previous version made it
        connection.exec_driver_sql("create table staff (username varchar(64) primary key, password_hash text not null, "
                                   "created float not null)")
        connection.execute(sa.text("insert into staff values ('old.hand', :h, 1700000000)"),
                           {"h": generate_password_hash(PASSWORD)})
    app = create_app(config)  # init_db migrates
    with app.app_context():
        assert store.staff_account("old.hand") == {"username": "old.hand", "role": "admin", "disabled": False,
                                                   "created": 1700000000, "password_changed": None}
        with databases.writing(place, "test") as connection:
            assert store.migrate(connection) == []  # once is enough
            columns = {c["name"] for c in sa.inspect(connection).get_columns("staff")}
        assert {"role", "disabled", "password_changed"} <= columns
        auth.add_account("new.one", PASSWORD, "editor")
        assert store.staff_account("new.one")["role"] == "editor"
    client = app.test_client()
    assert login(client, "old.hand").status_code == 302
    assert client.get("/staff/accounts").status_code == 200  # a running deployment keeps its administrators
