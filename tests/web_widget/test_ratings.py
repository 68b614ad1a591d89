"""好差评 from the citizen's side (issue 16, req 1): the API the widget and the kiosk call, on the app's real store,
for conversations the chat has written down as answered with a bundle (here written as the chat writes them; the
chat itself doing so, with a real Rasa: tests/e2e/test_ratings_browser.py); and the due date of a 差评 on the
Chinese calendar. Nothing here reaches Rasa (its port is closed)."""

from __future__ import annotations

import datetime as dt
import uuid

import chinese_calendar
import pytest
import sqlalchemy as sa

from ops.stack import free_port
from web_widget import chat, create_app, ratings, store

ID_NUMBER, MOBILE = "51012419870623451X", "15967128304"


@pytest.fixture
def app(mini_db, tmp_path):
    return create_app({"TESTING": True, "CATALOGUE_DB": str(mini_db), "WEB_DB": str(tmp_path / "web.db"),
                       "RASA_URLS": [f"http://127.0.0.1:{free_port()}"], "RASA_JWT_SECRET": "a-test-secret-of-thirty-two-bytes!",
                       "RATE_PER_SESSION": 6,
                       "SECRET_KEY": "test"})


def answered(app, bundle: str = "shop"):
    """A visitor whose conversation was answered with a bundle: its cookie's conversation, and the bundle written
    down as the chat writes each bundle answer it returns."""
    client = app.test_client()
    with client.session_transaction() as kept:
        kept["sid"] = sid = uuid.uuid4().hex
    with app.app_context():
        store.note_bundle_answer(sid, bundle)
    return client


def sid_of(client) -> str:
    with client.session_transaction() as kept:
        return kept["sid"]


def every_value(app) -> str:
    """Every value of every row of every table of the web app's store but the rate-limit counters (which hold an
    address for a minute, for the chat and the ratings alike), as one text."""
    with app.app_context():
        db = store.connection()
        return "\n".join(repr(tuple(row)) for table in store.META.sorted_tables if table.name != "hits"
                          for row in db.execute(sa.select(table)))


def ratings_rows(app) -> list[dict]:
    with app.app_context():
        return [dict(r._mapping) for r in store.connection().exec_driver_sql(
            "select conversation, bundle, level, reasons, text, opened, status from ratings order by id")]


def test_a_poor_rating_is_kept_with_the_conversation_and_bundle_masked_and_without_an_address(app):
    client = answered(app)
    sid = sid_of(client)
    agent = "Mozilla/5.0 (Yishi test browser 1.0)"
    response = client.post("/chat/rating", json={
        "bundle": "shop", "level": 1, "reasons": ["materials", "other"],
        "text": f"窗口说还要别的材料，我身份证{ID_NUMBER}，电话{MOBILE}"}, headers={"User-Agent": agent})
    assert response.status_code == 200, response.json
    assert response.json["label"] == "非常不满意" and "15个工作日" in response.json["message"]
    [row] = ratings_rows(app)
    assert (row["conversation"], row["bundle"], row["level"], row["reasons"], row["status"]) == \
        (sid, "shop", 1, "materials,other", "pending")
    assert row["text"] == "窗口说还要别的材料，我身份证510124********451X，电话159****8304"
    everything = every_value(app)
    assert ID_NUMBER not in everything and MOBILE not in everything
    assert "127.0.0.1" not in everything
    assert agent not in everything and "Mozilla" not in everything
    with app.app_context():
        assert store.ratings_of(sid) == {"shop": 1}


def test_a_good_rating_needs_no_reason_and_keeps_none(app):
    client = answered(app)
    response = client.post("/chat/rating", json={"bundle": "shop", "level": 4, "reasons": ["other"], "text": "很好"})
    assert response.status_code == 200 and response.json == {"level": 4, "label": "满意", "message": "感谢您的评价！"}
    [row] = ratings_rows(app)
    assert (row["level"], row["reasons"], row["text"], row["opened"], row["status"]) == (4, "", "", None, None)


def test_only_a_bundle_answered_in_this_conversation_can_be_rated(app):
    client = answered(app)
    assert client.post("/chat/rating", json={"bundle": "baby", "level": 5}).status_code == 403  # not answered here
    stranger = app.test_client()  # no conversation at all
    refused = stranger.post("/chat/rating", json={"bundle": "shop", "level": 5})
    assert refused.status_code == 403 and refused.json == {"error": "这段对话已经结束，无法再评价。"}
    other = answered(app, "baby")  # someone else's conversation, answered with baby
    refused = other.post("/chat/rating", json={"bundle": "shop", "level": 1, "reasons": ["other"]})
    assert refused.status_code == 403 and refused.json == {"error": "只能评价本次对话中一事给出的清单。"}
    assert ratings_rows(app) == []


@pytest.mark.parametrize(("body", "error"), [
    ({"bundle": "shop"}, "请从“非常满意”到“非常不满意”中选择一项。"),
    ({"bundle": "shop", "level": 6}, "请从“非常满意”到“非常不满意”中选择一项。"),
    ({"bundle": "shop", "level": True}, "请从“非常满意”到“非常不满意”中选择一项。"),
    ({"bundle": "shop", "level": "非常满意"}, "请从“非常满意”到“非常不满意”中选择一项。"),
    ({"level": 5}, "请说明您评价的是哪一份清单。"),
    ({"bundle": ["shop"], "level": 5}, "请说明您评价的是哪一份清单。"),
    ({"bundle": "shop", "level": 1}, "请告诉我们哪里不满意：选一个原因，或写一句话。"),
    ({"bundle": "shop", "level": 2, "text": " \u200b "}, "请告诉我们哪里不满意：选一个原因，或写一句话。"),
    ({"bundle": "shop", "level": 2, "reasons": ["rude"]}, "请从列出的原因中选择。"),
    ({"bundle": "shop", "level": 2, "reasons": "other"}, "请从列出的原因中选择。"),
    ({"bundle": "shop", "level": 2, "text": 12}, "请用文字说明原因。"),
    ({"bundle": "shop", "level": 2, "text": "慢" * 201}, "您写了201个字，请精简到200字以内。"),
    ([1, 2], "请选择您的评价。"),
    ("[" * 5000 + "]" * 5000, "请选择您的评价。"),
    ("not json", "请选择您的评价。"),
])
def test_a_bad_rating_is_refused_politely_in_chinese(app, body, error):
    client = answered(app)
    if isinstance(body, str):
        response = client.post("/chat/rating", data=body, content_type="application/json")
    else:
        response = client.post("/chat/rating", json=body)
    assert response.status_code == 400 and response.json == {"error": error}
    assert ratings_rows(app) == []


def test_a_second_rating_of_the_same_bundle_replaces_the_first(app):
    client = answered(app)
    assert client.post("/chat/rating", json={"bundle": "shop", "level": 2, "reasons": ["unclear"]}).status_code == 200
    [first] = ratings_rows(app)
    client.post("/chat/rating", json={"bundle": "shop", "level": 1, "reasons": ["process"], "text": "还是不清楚"})
    [second] = ratings_rows(app)  # still one row; a 差评 that stays a 差评 keeps the day it was opened (its due date)
    assert (second["level"], second["reasons"], second["text"], second["opened"]) == (1, "process", "还是不清楚", first["opened"])
    client.post("/chat/rating", json={"bundle": "shop", "level": 3})
    [third] = ratings_rows(app)  # 基本满意 now: no longer a 差评
    assert (third["level"], third["reasons"], third["text"], third["opened"], third["status"]) == (3, "", "", None, None)
    with app.app_context():  # later in the same conversation, an answer about the baby
        store.note_bundle_answer(sid_of(client), "baby")
    client.post("/chat/rating", json={"bundle": "baby", "level": 5})
    assert [(r["bundle"], r["level"]) for r in ratings_rows(app)] == [("shop", 3), ("baby", 5)]


def test_ratings_are_rate_limited_like_the_chat(app):
    client = answered(app)
    codes = [client.post("/chat/rating", json={"bundle": "shop", "level": 5}).status_code for _ in range(7)]
    assert codes == [200] * 6 + [429]
    response = client.post("/chat/rating", json={"bundle": "shop", "level": 4})
    assert response.json == {"error": "您提交得太快了，请稍等一分钟再试。"} and response.headers["Retry-After"] == "60"


def test_after_restart_or_the_kiosk_wipe_the_old_conversation_can_no_longer_be_rated(app):
    """The kiosk's idle wipe is 重新开始: the next citizen gets a new conversation with nothing to rate, and a copy
    of the old cookie (or a rating still on its way) is refused."""
    client = answered(app)
    old_cookie = client.get_cookie("session").value
    assert client.post("/chat/restart").status_code == 200
    assert client.post("/chat/rating", json={"bundle": "shop", "level": 5}).status_code == 403
    late = app.test_client()
    late.set_cookie("session", old_cookie)
    refused = late.post("/chat/rating", json={"bundle": "shop", "level": 1, "reasons": ["other"]})
    assert refused.status_code == 403 and refused.json == {"error": "这段对话已经结束，无法再评价。"}
    assert ratings_rows(app) == []


def test_the_history_tells_the_widget_what_this_conversation_rated(app):
    client = answered(app)
    assert client.get("/chat/history").json["ratings"] == {}
    client.post("/chat/rating", json={"bundle": "shop", "level": 4})
    history = client.get("/chat/history")
    assert history.json["ratings"] == {"shop": 4} and history.headers["Cache-Control"] == "no-store"
    assert app.test_client().get("/chat/history").json == {"turns": [], "ratings": {}}


def test_the_chat_writes_down_each_bundle_its_reply_answers_with():
    reply = [{"text": "【我要开小店】办事清单"}, {"custom": {"type": "bundle", "bundle": "shop", "checklist": {}}},
             {"custom": {"type": "question", "bundle": "baby"}}, {"custom": {"type": "bundle", "bundle": ""}}, "noise"]
    assert chat._bundles_answered(reply) == {"shop"}


# --- the due date of a 差评 ---------------------------------------------------------------------------------------

def test_a_poor_rating_is_due_fifteen_working_days_later_across_national_day():
    # the package's own calendar: the working days after the rating day, 国庆 and its 调休 included
    for rated in (dt.date(2025, 9, 28), dt.date(2026, 9, 30)):
        expected = chinese_calendar.get_workdays(rated + dt.timedelta(1), rated + dt.timedelta(60))[14]
        assert ratings.due(rated) == ratings.Due(expected, estimated=False)
    # written out, as the State Council's 2025 notice has it: 10月1日–8日 off, 9月28日 (Sunday) and 10月11日 (Saturday) worked
    assert ratings.due(dt.date(2025, 9, 28)).date == dt.date(2025, 10, 24)
    assert chinese_calendar.is_workday(dt.date(2025, 10, 11)) and not chinese_calendar.is_workday(dt.date(2025, 10, 8))
    assert ratings.due(dt.date(2026, 9, 30)).date == dt.date(2026, 10, 27)


def test_past_the_calendar_weekdays_are_counted_and_the_due_date_is_marked_estimated():
    unknown = max(day.year for day in chinese_calendar.constants.holidays) + 1  # the first year without data
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(dt.date(unknown, 3, 2))
    rated = dt.date(unknown - 1, 12, 20)
    known = chinese_calendar.get_workdays(rated + dt.timedelta(1), dt.date(unknown - 1, 12, 31))
    weekdays = [d for n in range(31) if (d := dt.date(unknown, 1, 1) + dt.timedelta(n)).weekday() < 5]
    assert ratings.due(rated) == ratings.Due(weekdays[15 - len(known) - 1], estimated=True)
    assert ratings.due(dt.date(unknown - 1, 11, 2)).estimated is False  # all inside the known year
