"""The staff console's tests: an app on the mini catalogue with one staff account, logging in and CSRF."""

from __future__ import annotations

import re

import pytest

from web_widget import create_app
from web_widget.staff import auth

PASSWORD = "correct horse battery"


@pytest.fixture
def staff_role() -> str:
    """The role of wang.li, the console tests' account (管理员, 内容编辑, 审核员, 只读 or their English keys); a test
    module that needs another overrides this fixture."""
    return "readonly"


@pytest.fixture
def console_app(mini_db, tmp_path, staff_role):
    """make(**config): the app on the mini catalogue and a fresh web.db, with the account wang.li (of staff_role)."""

    def make(**config):
        app = create_app({"TESTING": True, "CATALOGUE_DB": str(mini_db), "WEB_DB": str(tmp_path / "web.db"),
                          "SECRET_KEY": "test", **config})
        with app.app_context():
            auth.add_account("wang.li", PASSWORD, staff_role)
        return app

    return make


@pytest.fixture
def login():
    """login(client, username, password, address): post the login form (from address, by default 127.0.0.1)."""

    def post(client, username="wang.li", password=PASSWORD, address="127.0.0.1"):
        return client.post("/staff/login", data={"username": username, "password": password},
                           environ_base={"REMOTE_ADDR": address})

    return post


@pytest.fixture
def logged_in(login):
    """logged_in(app): a test client logged in as wang.li."""

    def make(app):
        client = app.test_client()
        login(client)
        return client

    return make


@pytest.fixture
def csrf_of():
    """csrf_of(client): the CSRF token of the logged-in client's session, read off the console's home page."""

    def read(client) -> str:
        return re.search(r'name="csrf" value="([^"]+)"', client.get("/staff/").get_data(as_text=True)).group(1)

    return read


@pytest.fixture(params=["embedded", "city"])
def store_profile(request, mini_db, tmp_path):
    """(profile, config) of an app on each profile's store: the embedded SQLite file (sessions and rate limits in it),
    or a fresh database on the private PostgreSQL with the private Redis (flushed) for sessions and rate limits."""
    config = {"TESTING": True, "CATALOGUE_DB": str(mini_db), "SECRET_KEY": "test", "WEB_DB": str(tmp_path / "web.db")}
    if request.param == "city":
        import redis

        server = request.getfixturevalue("redis_server")
        redis.Redis.from_url(server.url).flushdb()
        config |= {"WEB_DB": request.getfixturevalue("postgres_url"), "REDIS_URL": server.url}
    return request.param, config
