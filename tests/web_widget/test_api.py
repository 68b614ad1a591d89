"""The catalogue JSON API through Flask's test client."""

from __future__ import annotations

import pytest

from web_widget import create_app


@pytest.fixture
def client(mini_db):
    return create_app({"TESTING": True, "CATALOGUE_DB": str(mini_db)}).test_client()


def test_bundle_list_and_filters(client):
    assert client.get("/api/bundles").json["count"] == 2
    assert [b["slug"] for b in client.get("/api/bundles?family=人生服务").json["bundles"]] == ["baby"]
    assert [b["slug"] for b in client.get("/api/bundles?stage=行业准入").json["bundles"]] == ["shop"]
    assert client.get("/api/bundles?family=人生服务&stage=行业准入").json["bundles"] == []


def test_bad_filters_are_400_in_chinese(client):
    response = client.get("/api/bundles?family=旅游")
    assert response.status_code == 400
    assert response.json["error"].startswith("没有“旅游”这个类别")


def test_checklist_with_answers_as_query_parameters(client):
    response = client.get("/api/bundles/shop?size=small&agent=no")
    assert response.status_code == 200
    assert [m["id"] for m in response.json["materials"]] == ["one_form", "id_card", "lease"]
    assert response.headers["Cache-Control"] == "no-store"


def test_unknown_slug_is_404_and_bad_answer_400(client):
    response = client.get("/api/bundles/nope")
    assert response.status_code == 404 and "没有找到这个“一件事”" in response.json["error"]
    response = client.get("/api/bundles/shop?size=huge")
    assert response.status_code == 400 and "没有“huge”这个选项" in response.json["error"]
    response = client.get("/api/bundles/shop?colour=red")
    assert response.status_code == 400 and "没有“colour”这个问题" in response.json["error"]


def test_search_endpoint(client):
    assert [r["slug"] for r in client.get("/api/search?q=开个铺子").json["results"]] == ["shop"]
    assert client.get("/api/search?q=a:b").json["results"] == []
    assert client.get("/api/search").status_code == 400
    assert client.get("/api/search?q=" + "开" * 201).status_code == 400


def test_missing_catalogue_is_503_not_a_stack_trace(tmp_path):
    client = create_app({"TESTING": True, "CATALOGUE_DB": str(tmp_path / "none.db")}).test_client()
    response = client.get("/api/bundles")
    assert response.status_code == 503
    assert response.json == {"error": "事项目录暂时不可用，请稍后再试，或拨打12345咨询。"}
    assert client.get("/healthz").status_code == 503


def test_security_headers_and_json_errors(client):
    response = client.get("/api/no/such/thing")
    assert response.status_code == 404 and response.json == {"error": "没有找到这个页面。"}
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_checklist_json_carries_basis_time_limit_and_finish(client):
    import datetime as dt

    from catalogue import workdays

    body = client.get("/api/bundles/baby").json
    assert body["basis"]["regions"] == {"推断": 3} and body["time_limit"]["kind"] == "estimate"
    assert body["finish"]["date"] == workdays.finish(workdays.today(), 2).date.isoformat()
    assert dt.date.fromisoformat(body["finish"]["date"]) > workdays.today()
