"""One app factory, two surfaces: a hall may serve the citizen side and the console from different apps."""

from __future__ import annotations

import pytest

from web_widget import create_app


def make(mini_db, tmp_path, serve):
    return create_app({"TESTING": True, "CATALOGUE_DB": str(mini_db), "WEB_DB": str(tmp_path / "web.db"),
                       "SECRET_KEY": "test", "SERVE": serve}).test_client()


def test_citizen_only_has_no_console(mini_db, tmp_path):
    client = make(mini_db, tmp_path, ["citizen"])
    assert client.get("/api/bundles").status_code == 200 and client.get("/").status_code == 200
    assert client.get("/staff/login").status_code == 404 and client.get("/staff/api/me").status_code == 404


def test_staff_only_has_no_citizen_pages_or_chat(mini_db, tmp_path):
    client = make(mini_db, tmp_path, ["staff"])
    assert client.get("/staff/login").status_code == 200 and client.get("/staff/").status_code == 302
    assert client.get("/static/yishi-widget.js").status_code == 200  # the test bench draws replies with it
    for path in ("/", "/kiosk", "/api/bundles", "/checklist/shop"):
        assert client.get(path).status_code == 404, path
    assert client.post("/chat/message", json={"text": "你好"}).status_code == 404


def test_an_unknown_surface_is_refused_by_name(mini_db, tmp_path):
    with pytest.raises(ValueError, match="YISHI_SERVE: kiosk"):
        make(mini_db, tmp_path, ["citizen", "kiosk"])
