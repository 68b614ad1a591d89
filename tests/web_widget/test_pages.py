"""The citizen pages through Flask's test client (the browser tests are in tests/browser)."""

from __future__ import annotations

import re

import pytest

from web_widget import create_app


@pytest.fixture
def client(mini_db, tmp_path):
    return create_app({"TESTING": True, "CATALOGUE_DB": str(mini_db), "WEB_DB": str(tmp_path / "web.db"),
                       "SECRET_KEY": "test"}).test_client()


def test_demo_page_embeds_the_widget_with_script_tags_only(client):
    html = client.get("/").get_data(as_text=True)
    assert '<script src="/static/yishi-widget.js"></script>' in html
    assert '<script src="/static/yishi-init.js"></script>' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline script
    assert " style=" not in html and "onclick" not in html


def test_every_page_sends_a_strict_content_security_policy(client):
    for path in ("/", "/kiosk", "/checklist/shop", "/api/bundles"):
        policy = client.get(path).headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "object-src 'none'" in policy


def test_kiosk_offers_the_life_and_enterprise_stages(client):
    html = client.get("/kiosk").get_data(as_text=True)
    stages = re.findall(r'data-stage="([^"]+)"', html)
    assert stages == ["婴幼儿", "少年", "青年", "中年", "老年", "创业起步", "行业准入", "日常运营", "发展融资", "遇到困难"]
    assert 'data-idle-s="90"' in html and 'data-countdown-s="15"' in html
    assert 'data-idle-s="5"' in client.get("/kiosk?idle=5").get_data(as_text=True)


def test_checklist_page_is_readable_without_javascript(client):
    html = client.get("/checklist/shop?size=small&agent=no&print=1").get_data(as_text=True)
    assert "<h1>我要开小店</h1>" in html
    assert "本清单仅供参考，以窗口最新要求为准。" in html and re.search(r"打印日期：\d{4}-\d{2}-\d{2}", html)
    assert re.findall(r'<span class="m-name">([^<]+)</span>', html) == ["一件事申请表", "身份证", "租赁合同"]
    assert "面积多大？ <strong>小</strong>" in html
    assert 'src="/qr/shop.svg?size=small&amp;agent=no"' in html


def test_qr_code_carries_the_personalised_checklist(client):
    response = client.get("/qr/shop.svg?size=small")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.get_data(as_text=True).startswith("<?xml") and "<svg" in response.get_data(as_text=True)


def test_unknown_bundles_and_bad_answers_get_a_chinese_page(client):
    response = client.get("/checklist/nope")
    assert response.status_code == 404 and "没有找到这个“一件事”。" in response.get_data(as_text=True)
    response = client.get("/checklist/shop?size=huge")
    assert response.status_code == 400 and "没有“huge”这个选项" in response.get_data(as_text=True)
    assert client.get("/qr/nope.svg").status_code == 404


def test_the_printed_checklist_says_its_basis_time_limit_and_finish_date(client):
    html = client.get("/checklist/shop").get_data(as_text=True)
    assert ('<p class="basis">依据：四川省测试一件事工作方案（川测〔2024〕1号）；'
            "其余内容参考外省同类指南或一般规定整理，以窗口为准</p>") in html
    assert "办理时限：承诺3个工作日内办结（不含邮寄时间），依据：四川省测试一件事工作方案（川测〔2024〕1号）" in html
    assert re.search(r'<p class="finish">今天提交，预计\d+月\d+日前办结', html)


def test_links_and_qr_codes_use_the_public_address_and_other_hosts_are_refused(mini_db, tmp_path, monkeypatch):
    import segno

    from web_widget import pages

    app = create_app({"TESTING": True, "CATALOGUE_DB": str(mini_db), "WEB_DB": str(tmp_path / "web.db"),
                      "SECRET_KEY": "test", "PUBLIC_URL": "https://yishi.longquanyi.example",
                      "TRUSTED_HOSTS": ["yishi.longquanyi.example"]})
    client = app.test_client()
    encoded = []
    real = segno.make
    monkeypatch.setattr(pages.segno, "make", lambda content, **kw: encoded.append(content) or real(content, **kw))
    good = {"Host": "yishi.longquanyi.example"}
    assert client.get("/qr/shop.svg?size=large", headers=good).status_code == 200
    assert encoded == ["https://yishi.longquanyi.example/checklist/shop?size=large"]
    demo = client.get("/", headers=good).get_data(as_text=True)
    assert "https://yishi.longquanyi.example/static/yishi-widget.js" in demo
    for path in ("/qr/shop.svg", "/checklist/shop", "/", "/api/bundles", "/staff/login"):
        assert client.get(path, headers={"Host": "evil.example"}).status_code == 400, path
    assert encoded == ["https://yishi.longquanyi.example/checklist/shop?size=large"]  # nothing made for evil.example
