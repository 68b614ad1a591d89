"""The audit trail (issue 16, req 5): what the console's content and review actions and `yishi review merge`
record, the 审计 page with its filters and pages (in SQL, on both profiles), and who may read it."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import re

import pytest
import sqlalchemy as sa

from web_widget import create_app, store
from web_widget.staff import auth
from web_widget.staff import review_files as review

from .conftest import PASSWORD
from .test_content import add_tax_form
from .tracker_events import SENDERS, build


@pytest.fixture
def app(store_profile, mini_sources, tmp_path):
    config = store_profile[1] | {
        "CATALOGUE_SOURCES": str(mini_sources), "CATALOGUE_STAGING_DB": str(tmp_path / "staging.db"),
        "JIEBA_DICT_DIR": str(tmp_path / "jieba"), "RASA_DATA_DIR": str(tmp_path / "rasa"),
        "TRACKER_DB": str(tmp_path / "rasa.db"), "REVIEW_FILE": str(tmp_path / "review" / "labelled.yml")}
    app = create_app(config)
    with app.app_context():
        for username, role in (("an.admin", "admin"), ("ed.itor", "editor"), ("re.viewer", "reviewer")):
            auth.add_account(username, PASSWORD, role)
    return app


def signed_in(app, login, username: str):
    client = app.test_client()
    assert login(client, username).status_code == 302
    client.csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/staff/").get_data(as_text=True)).group(1)
    return client


def actions(app, username: str) -> list[dict]:
    with app.app_context():
        return list(reversed(store.audit_log(username=username)))


def test_marking_and_publishing_content_are_audited_with_before_and_after(app, login, mini_sources):
    editor = signed_in(app, login, "ed.itor")
    today = dt.date.today().isoformat()
    editor.post("/staff/content/check", data={"csrf": editor.csrf, "kind": "materials", "id": "plan"})
    add_tax_form(mini_sources)
    page = editor.post("/staff/content/rebuild", data={"csrf": editor.csrf}).get_data(as_text=True)
    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', page).group(1)
    assert editor.post("/staff/content/publish", data={"csrf": editor.csrf, "digest": digest}).status_code == 302
    mark, publish = actions(app, "ed.itor")
    assert (mark["action"], mark["target"], mark["detail"]) == ("mark", "materials:plan", "registry.yaml:39")
    assert json.loads(mark["before"]) == {"checked": None} and json.loads(mark["after"]) == {"checked": today}
    assert (publish["action"], publish["target"]) == ("publish", "catalogue")
    assert json.loads(publish["before"]) == {"bundles": 2}
    assert json.loads(publish["after"]) == {"bundles": 2, "changed": ["宝宝登记一件事"]}
    assert "标记已核对" in editor.get("/staff/content").get_data(as_text=True)  # the 内容 page's history still


def test_labelling_is_audited_with_the_label_before(app, login, tmp_path):
    ids = build(tmp_path / "rasa.db")
    reviewer = signed_in(app, login, "re.viewer")
    for choice in ("out_of_scope", "shop"):
        response = reviewer.post(f"/staff/conversations/{SENDERS['bbbb']}/label",
                                 data={"csrf": reviewer.csrf, "event_id": ids["xiche"], "label": choice})
        assert response.status_code == 302
    first, second = actions(app, "re.viewer")
    assert (first["action"], first["target"], first["before"]) == ("label", f"event:{ids['xiche']}", None)
    assert json.loads(second["before"]) == {"intent": "out_of_scope"} and json.loads(second["after"]) == \
        {"intent": "bundle_shop"}
    assert "洗车" not in first["detail"] + second["detail"]  # no citizen's words: the audit trail outlives them


def test_a_merge_of_the_review_file_is_audited(tmp_path, monkeypatch, mini_db, capsys):
    from web_widget.cli import main

    monkeypatch.setenv("YISHI_WEB_DB", str(tmp_path / "web.db"))
    labelled = tmp_path / "labelled.yml"
    review.write(labelled, {"宝宝上户口咋弄": "bundle_baby"}, review.REVIEW_HEADER)
    (tmp_path / "nlu").mkdir()
    for _ in range(2):  # the second merge changes nothing and is not audited
        assert main(["review", "merge", "--review", str(labelled), "--into", str(tmp_path / "nlu" / "reviewed.yml"),
                     "--heldout", str(tmp_path / "nlu")]) == 0
    capsys.readouterr()
    app = create_app({"TESTING": True, "WEB_DB": str(tmp_path / "web.db"), "SECRET_KEY": "test"})
    with app.app_context():
        (merged,) = store.audit_log()
    assert (merged["username"], merged["action"]) == ("cli:" + getpass.getuser(), "merge")
    assert json.loads(merged["after"]) == {"added": 1, "relabelled": 0, "refused": 0}


def test_the_audit_page_filters_and_pages_in_sql(app, login):
    with app.app_context():
        for i in range(120):
            store.audit("ed.itor" if i % 2 else "re.viewer", "mark" if i % 3 else "label", f"t{i}", f"第 {i} 条")
        store.audit("cli:root", "merge", "nlu_data/reviewed.yml", "1 added")
        store.connection().execute(sa.text("update audit_log set at = :at where target in ('t0', 't1')"),
                                   {"at": dt.datetime(2025, 3, 9, 12).timestamp()})
    admin = signed_in(app, login, "an.admin")

    def page(**query) -> tuple[str, list[str]]:
        response = admin.get("/staff/audit", query_string=query)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        return html, re.findall(r"<td>第 (\d+) 条</td>", html)

    html, rows = page()
    assert "共 124 条，第 1 / 3 页" in html and len(rows) == 49 and rows[0] == "119"  # + merge, newest first
    assert "命令行（root）" in html and "标记已核对" in html and "新建账号" in html
    html, rows = page(page=3)
    assert "第 3 / 3 页" in html and rows[-1] == "0" and "新建账号" in html
    assert page(user="ed.itor", action="label")[1] == [str(i) for i in range(117, 0, -6)]
    html, rows = page(start="2025-03-01", end="2025-03-09")
    assert rows == ["1", "0"] and "共 2 条" in html
    assert page(start="2025-03-10", end="2025-03-01")[1] == ["1", "0"]  # the other way round: swapped
    html, _ = page(start="März")
    assert "日期格式应为 年-月-日" in html and "共 124 条" in html
    assert 'href="/staff/audit?page=2&amp;user=ed.itor"' in page(user="ed.itor")[0]
    with app.app_context():
        assert store.audit_count(username="ed.itor") == 60
        users, kinds = store.audit_choices()
    assert users == ["cli:root", "ed.itor", "re.viewer", "system"] and kinds == ["account_add", "label", "mark", "merge"]


def test_only_the_audit_permission_reads_the_trail(app, login):
    for username in ("ed.itor", "re.viewer"):
        refused = signed_in(app, login, username).get("/staff/audit")
        assert refused.status_code == 403 and "审计" in refused.get_data(as_text=True)


def test_the_audit_trail_outlives_the_conversations_retention_purges(app, tmp_path):
    from yishi import retention

    with app.app_context():
        store.audit("ed.itor", "publish", "catalogue", "两年前的发布")
        store.keep_unanswered("visitor-1", "两年前的问题", "timeout")
        store.connection().execute(sa.text("update audit_log set at = 1000000000"))
        store.connection().execute(sa.text("update unanswered set at = 1000000000"))
    report = retention.purge(tmp_path / "no-tracker.db", app.config["WEB_DB"], 180)
    with app.app_context():
        assert store.unanswered() == []  # the conversations' questions went (the purge was real)
        assert [r["detail"] for r in store.audit_log(action="publish")] == ["两年前的发布"]
    assert report.line()
