"""Demand: questions per bundle per day and week, fallback shares, unmatched questions grouped by wording,
and the /staff/demand page."""

from __future__ import annotations

import re
from datetime import date

import pytest

from web_widget import store
from web_widget.staff import demand_stats as demand
from web_widget.staff import tracker as conversations

from .tracker_events import SENDERS, build

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


@pytest.fixture
def questions(tmp_path):
    build(tmp_path / "rasa.db")
    return conversations.questions(tmp_path / "rasa.db", *NOVEMBER)


def test_questions_per_day(questions):
    days = demand.days(questions, date(2026, 11, 1), date(2026, 11, 10))
    assert len(days) == 10 and days[0].start == date(2026, 11, 1) and days[-1].start == date(2026, 11, 10)
    counted = [(d.start.day, d.total, d.fallback, d.other, dict(d.bundles)) for d in days if d.total]
    assert counted == [(2, 3, 2, 0, {"shop": 1}), (3, 1, 0, 0, {"baby": 1}), (10, 4, 2, 1, {"baby": 1})]
    assert days[1].fallback_share == pytest.approx(2 / 3) and days[0].fallback_share == 0.0


def test_questions_per_week_start_on_monday_and_are_cut_to_the_range(questions):
    weeks = demand.weeks(questions, date(2026, 11, 1), date(2026, 11, 12))
    assert [(w.start, w.end, w.total, w.fallback, dict(w.bundles)) for w in weeks] == [
        (date(2026, 11, 1), date(2026, 11, 1), 0, 0, {}),
        (date(2026, 11, 2), date(2026, 11, 8), 4, 2, {"shop": 1, "baby": 1}),
        (date(2026, 11, 9), date(2026, 11, 12), 4, 2, {"baby": 1}),
    ]
    assert weeks[1].fallback_share == 0.5


def test_per_bundle_rows_most_asked_first(questions):
    start, end = date(2026, 11, 2), date(2026, 11, 10)
    days, weeks = demand.days(questions, start, end), demand.weeks(questions, start, end)
    assert demand.per_bundle(days, weeks) == [
        {"bundle": "baby", "total": 2, "weeks": [1, 1], "days": [0, 1, 0, 0, 0, 0, 0, 0, 1]},
        {"bundle": "shop", "total": 1, "weeks": [1, 0], "days": [1, 0, 0, 0, 0, 0, 0, 0, 0]},
    ]


def test_unmatched_come_from_fallbacks_and_unanswered_counted_once(questions):
    unanswered = [{"at": 0, "session": SENDERS["bbbb"], "text": "想开个洗车店", "reason": "timeout"},  # also in the tracker
                  {"at": 0, "session": "ffff", "text": "想开个洗车店", "reason": "unreachable"}]
    assert demand.unmatched_texts(questions, unanswered) == [
        (SENDERS["bbbb"], "想开个洗车店"), (SENDERS["bbbb"], "开洗车铺子要办啥"), (SENDERS["dddd"], "护照怎么办"),
        (SENDERS["eeee"], "开店还是上户口"), ("ffff", "想开个洗车店")]


def test_similar_wording_is_grouped_and_different_wording_is_not():
    texts = ["护照怎么办", "想开个洗车店", "开洗车铺子要办啥", "想开个洗车店", "驾照怎么办", "办护照要啥材料",
             "開個洗車店需要什麼", "身份证丢了咋办", "补办身份证"]
    groups = demand.group(texts)
    assert [(g.representative, g.count) for g in groups] == [
        ("想开个洗车店", 4), ("护照怎么办", 2), ("补办身份证", 2), ("驾照怎么办", 1)]
    assert groups[0].examples == [("想开个洗车店", 2), ("开洗车铺子要办啥", 1), ("開個洗車店需要什麼", 1)]


def test_grouping_is_deterministic():
    texts = ["想开个洗车店", "开洗车铺子要办啥", "护照怎么办", "护照过期了咋个办", "驾照怎么办", "养狗要办证不"]
    assert demand.group(texts) == demand.group(list(reversed(texts)))
    assert len(demand.group(texts * 3, limit=2)) == 2


def test_generic_words_and_single_characters_do_not_count():
    assert set(demand.features("护照怎么办")) == {"护照", "怎么办"}
    assert set(demand.features("开洗车铺子要办啥")) == {"洗车", "铺子"}
    assert demand.similarity(demand.features("护照怎么办"), demand.features("驾照怎么办")) == 0.0  # only 怎么办 shared
    assert demand.features("啥") == {}


# ---- the page ----------------------------------------------------------------------------------------


@pytest.fixture
def app(console_app, tmp_path):
    build(tmp_path / "rasa.db")
    return console_app(TRACKER_DB=str(tmp_path / "rasa.db"))


@pytest.fixture
def client(app, logged_in):
    return logged_in(app)


def chart_bars(html: str, which: str) -> list[str]:
    """The heights of one chart's bars (all questions)."""
    svg = re.search(rf'aria-label="{which}的问题数和兜底数">(.*?)</svg>', html, re.DOTALL).group(1)
    return re.findall(r'<rect class="bar" [^>]*height="([0-9.]+)"', svg)


def test_demand_page_charts_tables_and_groups(app, client):
    with app.app_context():
        store.keep_unanswered("ffff", "洗车店咋个开", "timeout")
        store.connection().exec_driver_sql("update unanswered set at = ?", (conversations.bounds(*NOVEMBER)[0] + 86400 * 3,))
    response = client.get("/staff/demand?start=2026-11-02&end=2026-11-15")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<title>一事 · 工作台 · 需求</title>" in html
    assert "2026-11-02 至 2026-11-15：共 8 个问题，兜底 4 个（50%）" in html
    assert len(chart_bars(html, "每天")) == 14 and len(chart_bars(html, "每周")) == 2
    assert "<title>2026-11-02：3 个问题，兜底 2 个（67%）</title>" in html
    assert "<title>2026-11-09 至 2026-11-15：4 个问题，兜底 2 个（50%）</title>" in html
    rows = re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">(\d+)</td>", html)
    assert ("宝宝登记一件事", "2") in rows and ("我要开小店", "1") in rows
    assert re.search(r'<td class="num">3</td><td>想开个洗车店</td>\s*<td><span class="example">洗车店咋个开</span>'
                     r'<span class="example">开洗车铺子要办啥</span>', html)
    assert "没有对应“一件事”的问题（5 个）" in html and " style=" not in html and "<script" not in html


def test_demand_page_defaults_to_the_last_28_days_and_survives_no_tracker(app, client, tmp_path):
    (tmp_path / "rasa.db").unlink()
    html = client.get("/staff/demand").get_data(as_text=True)
    end = conversations.today()
    assert f'name="end" value="{end.isoformat()}"' in html and "还没有对话记录" in html
    assert len(chart_bars(html, "每天")) == 28
    assert client.get("/staff/demand?start=bad").status_code == 200


def test_demand_api(client):
    data = client.get("/staff/api/demand?start=2026-11-09&end=2026-11-10").json
    assert data["days"][1] == {"start": "2026-11-10", "end": "2026-11-10", "total": 4, "fallback": 2, "clarify": 0,
                               "other": 1, "fallback_share": 0.5, "bundles": {"baby": 1}}
    assert data["unmatched"] == [{"text": "护照怎么办", "count": 1, "examples": ["护照怎么办"]},  # shorter first
                                 {"text": "开店还是上户口", "count": 1, "examples": ["开店还是上户口"]}]


def test_demand_needs_a_login(app):
    client = app.test_client()
    assert client.get("/staff/demand").status_code == 302
    assert client.get("/staff/api/demand").status_code == 401


def test_one_visitor_repeating_a_question_counts_once_per_wording(questions):
    spam = [{"at": 0, "session": f"spammer-{n // 10}", "text": "买彩票送积分" + ("！" if n % 2 else ""), "reason": "timeout"}
            for n in range(60)]  # 60 messages from 6 sessions
    texts = [text for _, text in demand.unmatched_texts(questions, spam) if "彩票" in text]
    assert len(texts) == 12  # 6 visitors, 2 wordings each ("！" makes a second wording)


def test_dates_far_outside_the_range_are_a_message_not_a_500(client):
    for path in ("/staff/demand", "/staff/api/demand", "/staff/api/conversations", "/staff/conversations"):
        response = client.get(path + "?start=0001-01-01&end=9999-12-31")
        assert response.status_code == 200, path
    assert "超出的已改到这个范围内" in client.get("/staff/demand?start=2026-01-01&end=9999-12-31").get_data(as_text=True)


def test_the_figures_are_computed_at_most_once_per_cache_period(console_app, logged_in, tmp_path):
    from .tracker_events import Tracker, at

    build(tmp_path / "rasa.db")
    query = "/staff/api/demand?start=2026-11-01&end=2026-11-30"

    def total(client) -> int:
        return sum(day["total"] for day in client.get(query).json["days"])

    def one_more_question() -> None:
        tracker = Tracker(tmp_path / "rasa.db")
        tracker.start("ffffffff", at(20, 9))
        tracker.user("ffffffff", "想开个小店", [("bundle_shop", 0.9)])
        tracker.checklist("ffffffff", "shop", "我要开小店")
        tracker.close()

    cached = logged_in(console_app(TRACKER_DB=str(tmp_path / "rasa.db"), DEMAND_CACHE_S=3600))
    first = total(cached)
    one_more_question()
    assert total(cached) == first  # the figures of a minute ago, not recomputed for every reload
    assert "数据统计于" in cached.get("/staff/demand?start=2026-11-01&end=2026-11-30").get_data(as_text=True)
    fresh = logged_in(console_app(TRACKER_DB=str(tmp_path / "rasa.db"), DEMAND_CACHE_S=0, WEB_DB=str(tmp_path / "w2.db")))
    assert total(fresh) == first + 1
