"""The console's 好差评 (issue 16, req 1): every 差评 with its conversation, owner, status and due date, overdue
first; status moves only forward and every step is audited; satisfaction per bundle and week on the 需求 and 质量
pages. On both profiles: the embedded SQLite file, and PostgreSQL with Redis."""

from __future__ import annotations

import datetime as dt
import json
import re
import time

import pytest

from catalogue import workdays
from web_widget import ratings, store
from web_widget.staff import auth


@pytest.fixture
def staff_role() -> str:
    return "审核员"  # follows up ratings

DAY = 86400
BEIJING = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def app(store_profile, console_app, tmp_path):
    config = {"TRACKER_DB": str(tmp_path / "rasa.db"), "RESULTS_DIR": str(tmp_path / "results"),
              "MODEL_PATH": str(tmp_path / "none.tar.gz"), "DEMAND_CACHE_S": 0}
    return console_app(**(store_profile[1] | config))


def rate(app, conversation: str, bundle: str, level: int, reasons=(), text: str = "", at: float | None = None) -> int:
    """A citizen's rating as the chat endpoint keeps it (web_widget.chat.rate)."""
    with app.app_context():
        store.note_bundle_answer(conversation, bundle)
        return store.save_rating(conversation, ratings.Rating(bundle, level, tuple(reasons), text), now=at)


def beijing(day: str, hour: int = 10) -> float:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), BEIJING).timestamp()


def rows_of(page: str) -> dict[int, str]:
    """The 差评 table's rows by rating id, in the order shown."""
    return {int(m.group(1)): m.group(2) for m in re.finditer(r'<tr id="rating-(\d+)"(.*?)</tr>', page, re.S)}


def post(client, path: str, **form):
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/staff/").get_data(as_text=True)).group(1)
    return client.post(path, data={"csrf": csrf, **form})


def audited(app, action: str) -> list[dict]:
    with app.app_context():
        return store.audit_log(action=action)


def test_every_poor_rating_is_listed_with_its_conversation_and_due_date_overdue_first(app, logged_in):
    now = time.time()
    fresh = rate(app, "a" * 32, "shop", 2, ["materials"], "窗口要的和清单不一样，电话159****8304", at=now)
    late = rate(app, "b" * 32, "baby", 1, ["wrong_bundle", "unclear"], at=now - 60 * DAY)
    closed = rate(app, "c" * 32, "shop", 1, ["process"], at=now - 90 * DAY)
    rate(app, "d" * 32, "shop", 4, at=now)  # 满意: not a 差评
    with app.app_context():
        store.advance_rating(closed, "rectified", "", "wang.li")
        store.advance_rating(closed, "replied", "电话回复了群众", "wang.li")
    client = logged_in(app)
    page = client.get("/staff/ratings").get_data(as_text=True)
    shown = rows_of(page)
    assert list(shown) == [late, fresh, closed]  # overdue first, then open by due date, the closed one last
    today = workdays.today()
    for rating_id, opened in ((late, now - 60 * DAY), (fresh, now), (closed, now - 90 * DAY)):
        due = ratings.due(ratings.day_of(opened))
        assert due.date.isoformat() in shown[rating_id]
        assert ("推算" in shown[rating_id]) == due.estimated  # a due date past the calendar's years says so
    late_due = ratings.due(ratings.day_of(now - 60 * DAY)).date
    assert 'class="rating-row overdue"' in shown[late] and f"已逾期 {(today - late_due).days} 天" in shown[late]
    assert "已逾期" not in shown[fresh] and "已办结" in shown[closed] and "电话回复了群众" in shown[closed]
    assert f'href="/staff/conversations/{"b" * 32}"' in shown[late]  # the 对话回看 page of that conversation
    assert "宝宝登记一件事" in shown[late] and "没有说到我要办的事" in shown[late] and "说得不清楚，看不懂" in shown[late]
    assert "非常不满意" in shown[late] and "不满意" in shown[fresh] and "“窗口要的和清单不一样，电话159****8304”" in shown[fresh]
    assert "差评共 3 条" in page and "已逾期 1" in page and "标记为已整改" in shown[fresh] and "标记为" not in shown[closed]
    listed = client.get("/staff/api/ratings").json["complaints"]
    assert [(c["id"], c["status"], c["overdue"]) for c in listed] == [(late, "pending", True), (fresh, "pending", False),
                                                                      (closed, "replied", False)]
    assert listed[1] | {"due": None, "due_estimated": None, "opened": None, "rated_at": None} == {
        "id": fresh, "conversation": "a" * 32, "bundle": "shop", "level": 2, "label": "不满意", "reasons": ["materials"],
        "text": "窗口要的和清单不一样，电话159****8304", "status": "pending", "status_label": "待处理", "owner": None,
        "note": None, "due": None, "due_estimated": None, "opened": None, "rated_at": None, "overdue": False}


def test_a_status_moves_only_forward_one_step_at_a_time_and_every_step_is_audited(app, logged_in):
    rating_id = rate(app, "e" * 32, "shop", 1, ["other"])
    client = logged_in(app)
    skipped = post(client, "/staff/ratings/status", id=rating_id, to="replied")
    assert skipped.status_code == 302
    assert "不能改为“已回复”" in client.get("/staff/ratings").get_data(as_text=True)
    assert audited(app, "rating_status") == []
    post(client, "/staff/ratings/status", id=rating_id, to="rectified", note="  清单里  补上了场地证明 ")
    page = client.get("/staff/ratings").get_data(as_text=True)
    assert f"差评 #{rating_id} 已标记为“已整改”" in page and "标记为已回复" in rows_of(page)[rating_id]
    for back_or_again in ("pending", "rectified", "closed", ""):
        post(client, "/staff/ratings/status", id=rating_id, to=back_or_again)
    post(client, "/staff/ratings/status", id=rating_id, to="replied")
    with app.app_context():
        assert store.rating(rating_id)["status"] == "replied"
    steps = audited(app, "rating_status")
    assert [(s["username"], s["target"], s["detail"]) for s in reversed(steps)] == [
        ("wang.li", f"rating:{rating_id}", "待处理 → 已整改：清单里 补上了场地证明"),
        ("wang.li", f"rating:{rating_id}", "已整改 → 已回复")]
    assert json.loads(steps[-1]["before"]) == {"status": "pending"}
    assert json.loads(steps[-1]["after"]) == {"status": "rectified", "note": "清单里 补上了场地证明"}
    # refused without the CSRF token, for an unknown or a good rating, for a note too long: no 500, nothing changed
    assert client.post("/staff/ratings/status", data={"id": rating_id, "to": "replied"}).status_code == 400
    good = rate(app, "f" * 32, "shop", 5)
    for form in ({"id": "abc", "to": "rectified"}, {"id": good, "to": "rectified"}, {"id": 999, "to": "rectified"}, {}):
        assert post(client, "/staff/ratings/status", **form).status_code == 302
    other = rate(app, "g" * 32, "baby", 2, ["other"])
    post(client, "/staff/ratings/status", id=other, to="rectified", note="长" * 501)
    assert "请精简到500字以内" in client.get("/staff/ratings").get_data(as_text=True)
    assert len(audited(app, "rating_status")) == 2


def test_a_poor_rating_is_assigned_to_a_staff_account_and_that_is_audited(app, logged_in):
    rating_id = rate(app, "h" * 32, "shop", 2, ["unclear"])
    with app.app_context():
        auth.add_account("li.na", "another long password")
    client = logged_in(app)
    row = rows_of(client.get("/staff/ratings").get_data(as_text=True))[rating_id]
    assert "（未指派）" in row and '<option value="li.na">li.na</option>' in row
    post(client, "/staff/ratings/owner", id=rating_id, owner="li.na")
    post(client, "/staff/ratings/owner", id=rating_id, owner="nobody")  # no such account
    page = client.get("/staff/ratings").get_data(as_text=True)
    assert "没有这个工作人员账号：nobody" in page
    assert '<option value="li.na" selected>li.na</option>' in rows_of(page)[rating_id]
    [step] = audited(app, "rating_owner")
    assert (step["username"], step["target"], step["detail"]) == ("wang.li", f"rating:{rating_id}", "负责人：无 → li.na")
    with app.app_context():
        assert store.rating(rating_id)["owner"] == "li.na"


def test_satisfaction_per_week_and_bundle_on_the_demand_page(app, logged_in):
    for i, (day, bundle, level) in enumerate([("2026-11-02", "shop", 5), ("2026-11-03", "shop", 1),
                                              ("2026-11-04", "baby", 3), ("2026-11-10", "shop", 4),
                                              ("2026-11-11", "baby", 2), ("2026-11-20", "shop", 1)]):
        rate(app, f"{i:032x}", bundle, level, ["other"] if level <= 2 else (), at=beijing(day))
    with app.app_context():  # what retention kept of purged ratings (yishi/retention.py) counts as well
        store.connection().exec_driver_sql("insert into rating_daily (day, bundle, level, count) values "
                                           "('2026-11-05', 'baby', 5, 2)")
    client = logged_in(app)
    figures = client.get("/staff/api/demand?start=2026-11-01&end=2026-11-15").json["satisfaction"]
    weeks = [(w["start"], w["total"], w["counts"]["非常满意"], w["counts"]["非常不满意"], w["satisfaction"]) for w in figures["weeks"]]
    assert weeks == [("2026-10-26", 0, 0, 0, None), ("2026-11-02", 5, 3, 1, 0.8), ("2026-11-09", 2, 0, 0, 0.5)]
    assert [(b["bundle"], b["total"], b["satisfaction"]) for b in figures["bundles"]] == [
        ("shop", 3, pytest.approx(2 / 3, abs=1e-4)), ("baby", 4, 0.75)]  # the lowest satisfaction first
    page = client.get("/staff/demand?start=2026-11-01&end=2026-11-15").get_data(as_text=True)
    section = page.split('id="satisfaction"', 1)[1].split("</section>", 1)[0]
    assert "2026-11-02 起" in section and "80%" in section and "我要开小店" in section and "67%" in section


def test_satisfaction_per_bundle_on_the_quality_page(app, logged_in):
    now = time.time()
    rate(app, "1" * 32, "baby", 5, at=now - DAY)
    rate(app, "2" * 32, "baby", 1, ["wrong_bundle"], at=now - 2 * DAY)
    rate(app, "3" * 32, "shop", 4, at=now - 200 * DAY)  # older than the page's twelve weeks
    section = logged_in(app).get("/staff/quality").get_data(as_text=True).split('id="satisfaction"', 1)[1]
    section = section.split("</section>", 1)[0]
    assert "群众评价（近12周）" in section and "宝宝登记一件事" in section and "50%" in section
    assert "我要开小店" not in section
