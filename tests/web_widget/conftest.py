"""The staff console's tests: an app on the mini catalogue with one staff account, and a logged-in client."""

from __future__ import annotations

import pytest

from web_widget import create_app, staff_auth

from .test_staff_auth import PASSWORD, login


@pytest.fixture
def console_app(mini_db, tmp_path):
    """make(**config): the app on the mini catalogue and a fresh web.db, with the account wang.li."""

    def make(**config):
        app = create_app({"TESTING": True, "CATALOGUE_DB": str(mini_db), "WEB_DB": str(tmp_path / "web.db"),
                          "SECRET_KEY": "test", **config})
        with app.app_context():
            staff_auth.add_account("wang.li", PASSWORD)
        return app

    return make


def logged_in(app):
    """A test client logged in as wang.li."""
    client = app.test_client()
    login(client)
    return client
