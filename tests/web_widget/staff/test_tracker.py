"""Reading conversations from Rasa's tracker store: filters, turn by turn, questions, and read-only access."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest
import sqlalchemy as sa

from web_widget.staff import tracker as conversations
from web_widget.staff.tracker import Filters, TrackerMissing

from .tracker_events import SENDERS, build

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


@pytest.fixture
def sqlite_tracker(tmp_path):
    path = tmp_path / "rasa.db"
    return path, build(path)


@pytest.fixture(params=["sqlite", "postgresql"])
def tracker(request, sqlite_tracker):
    """The five conversations in the embedded profile's SQLite file, or copied row for row into a PostgreSQL
    database as the city profile's Rasa servers keep them (the same tables; `data` a text column of JSON)."""
    if request.param == "sqlite":
        return sqlite_tracker
    path, ids = sqlite_tracker
    url = request.getfixturevalue("postgres_url")
    source, target = sa.create_engine(f"sqlite:///{path}"), sa.create_engine(url)
    tables = sa.MetaData()
    tables.reflect(source)
    with source.connect() as reading, target.begin() as writing:
        tables.create_all(writing)
        for table in tables.sorted_tables:
            rows = [dict(row._mapping) for row in reading.execute(table.select())]
            if rows:
                writing.execute(table.insert(), rows)
    source.dispose()
    target.dispose()
    return url, ids


def found(path, **filters) -> list[str]:
    """The short ids (first four characters) of the conversations the filters let through, latest first."""
    args = {"start": NOVEMBER[0], "end": NOVEMBER[1], **filters}
    return [s.sender_id[:4] for s in conversations.conversations(path, Filters(**args), low=0.6, limit=50)[0]]


def test_list_summarises_each_conversation_latest_first(tracker):
    path, _ = tracker
    summaries = conversations.conversations(path, Filters(*NOVEMBER), low=0.6, limit=50)[0]
    assert [s.short for s in summaries] == ["eeeeeeee", "dddddddd", "cccccccc", "bbbbbbbb", "aaaaaaaa"]
    eeee = summaries[0]
    assert (eeee.start.strftime("%Y-%m-%d %H:%M"), eeee.user_messages, eeee.bundles) == ("2026-11-10 15:00", 3, ["baby"])
    assert (eeee.fallback, eeee.low_confidence, eeee.ask_back) == (True, True, True)
    aaaa = summaries[-1]
    assert (aaaa.user_messages, aaaa.bundles, aaaa.fallback, aaaa.low_confidence, aaaa.ask_back) == \
        (2, ["shop"], False, False, False)


def test_filters_filter(tracker):
    path, _ = tracker
    assert found(path, fallback=True) == ["eeee", "dddd", "bbbb"]
    assert found(path, low_confidence=True) == ["eeee", "cccc", "bbbb"]  # 护照怎么办 is a confident out_of_scope
    assert found(path, ask_back=True) == ["eeee", "cccc"]
    assert found(path, bundle="baby") == ["eeee", "cccc"]
    assert found(path, bundle="shop") == ["aaaa"]  # offered in an ask-back is not shown
    assert found(path, fallback=True, ask_back=True) == ["eeee"]
    assert found(path, start=date(2026, 11, 3), end=date(2026, 11, 3)) == ["cccc"]
    assert found(path, start=date(2026, 11, 11), end=date(2026, 11, 30)) == []


def test_low_confidence_threshold_is_the_callers(tracker):
    path, _ = tracker
    flagged = [s.sender_id[:4] for s in conversations.conversations(path, Filters(*NOVEMBER), low=0.5, limit=50)[0]
               if s.low_confidence]
    assert flagged == ["eeee", "cccc", "bbbb"]  # 上户口要啥 at 55% is no longer low, but its ask-back turn is
    flagged = [s.sender_id[:4] for s in conversations.conversations(path, Filters(*NOVEMBER), low=0.95, limit=50)[0]
               if s.low_confidence]
    assert flagged == ["eeee", "dddd", "cccc", "bbbb", "aaaa"]  # button clicks (100%) never count


def test_one_conversation_turn_by_turn(tracker):
    path, ids = tracker
    turns = conversations.conversation(path, SENDERS["cccc"], low=0.6)
    assert len(turns) == 2
    asked, picked = turns
    assert (asked.user.id, asked.user.text, asked.user.intent, asked.user.confidence) == \
        (ids["waer"], "娃儿的事咋弄", "bundle_baby", 0.42)
    assert asked.user.runner_up == ("bundle_shop", 0.35)  # nlu_fallback is not an intent of its own
    assert asked.user.fell_back and asked.user.low and asked.user.button is None
    assert [(r.kind, r.options) for r in asked.replies] == [("clarify", ["宝宝登记一件事", "我要开小店"])]
    assert picked.user.button == {"intent": "choose_bundle", "entities": {"bundle": "baby"}} and not picked.user.low
    assert [(r.kind, r.bundle) for r in picked.replies] == [("bundle", "baby")]
    assert picked.replies[0].text.startswith("【宝宝登记一件事】\n")


def test_question_payloads_and_plain_replies(tracker):
    path, _ = tracker
    first = conversations.conversation(path, SENDERS["aaaa"], low=0.6)[0]
    assert [(r.kind, r.bundle, r.options) for r in first.replies] == [("bundle", "shop", []),
                                                                     ("question", "shop", ["小", "大"])]
    greeting = conversations.conversation(path, SENDERS["dddd"], low=0.6)[1]
    assert (greeting.user.intent, greeting.user.low) == ("greet", False)
    assert [(r.kind, r.text) for r in greeting.replies] == [(None, "您好！我是“一事”智能助手。")]


def test_unknown_conversation_is_empty_and_messages_are_found_by_id(tracker):
    path, ids = tracker
    assert conversations.conversation(path, "nobody", low=0.6) == []
    assert conversations.user_message(path, ids["xiche"]) == (SENDERS["bbbb"], "想开个洗车店")
    assert conversations.user_message(path, ids["xiche"] + 1) is None  # not a user event


def test_questions_count_typed_messages_and_settle_ask_backs(tracker):
    path, _ = tracker
    found = [(q.sender_id[:4], q.text, q.outcome, q.bundle) for q in conversations.questions(path, *NOVEMBER)]
    assert found == [
        ("aaaa", "想开个小店", "bundle", "shop"),
        ("bbbb", "想开个洗车店", "fallback", None),
        ("bbbb", "开洗车铺子要办啥", "fallback", None),
        ("cccc", "娃儿的事咋弄", "bundle", "baby"),  # asked back, then baby picked
        ("dddd", "护照怎么办", "fallback", None),
        ("dddd", "你好", "other", None),
        ("eeee", "上户口要啥", "bundle", "baby"),
        ("eeee", "开店还是上户口", "fallback", None),  # asked back, then 都不是
    ]


def test_an_ask_back_left_unanswered_stays_an_ask_back(tmp_path):
    from .tracker_events import Tracker, at

    tracker = Tracker(tmp_path / "rasa.db")
    tracker.start("ffff", at(5, 9))
    tracker.user("ffff", "办证", [("bundle_shop", 0.3), ("bundle_baby", 0.3)], fallback=True)
    tracker.clarify("ffff", [("shop", "我要开小店"), ("baby", "宝宝登记一件事")])
    tracker.start("gggg", at(5, 10))
    tracker.click("gggg", "choose_bundle", bundle="shop")  # another conversation's click settles nothing here
    tracker.checklist("gggg", "shop", "我要开小店")
    tracker.close()
    found = [(q.sender_id, q.outcome, q.bundle) for q in conversations.questions(tmp_path / "rasa.db", *NOVEMBER)]
    assert found == [("ffff", "clarify", None)]


def test_a_missing_tracker_store_is_reported_not_crashed_on(tmp_path):
    with pytest.raises(TrackerMissing):
        conversations.conversations(tmp_path / "none.db", Filters(*NOVEMBER), low=0.6, limit=50)[0]
    sqlite3.connect(tmp_path / "empty.db").close()  # Rasa created the file but no table yet
    with pytest.raises(TrackerMissing):
        conversations.questions(tmp_path / "empty.db", *NOVEMBER)


def test_reading_is_read_only_and_holds_no_transaction(tmp_path):
    path = tmp_path / "rasa.db"
    build(path, journal="delete")  # without WAL an open read would block every write
    with conversations.reader(path) as db, pytest.raises(sa.exc.OperationalError, match="readonly"):
        db.exec_driver_sql("delete from events")
    conversations.conversations(path, Filters(*NOVEMBER), low=0.6, limit=50)[0]
    conversations.questions(path, *NOVEMBER)
    writer = sqlite3.connect(path, timeout=0, isolation_level=None)
    writer.execute("begin exclusive")  # fails at once if a reader were still holding the file
    writer.execute("delete from events")
    writer.execute("commit")
    writer.close()


def test_date_ranges_from_a_form():
    assert conversations.date_range("2026-11-02", "2026-11-08") == (date(2026, 11, 2), date(2026, 11, 8), None)
    assert conversations.date_range("2026-11-08", "2026-11-02")[:2] == (date(2026, 11, 2), date(2026, 11, 8))
    start, end, problem = conversations.date_range("yesterday", None)
    assert (end - start).days == 27 and end == conversations.today() and problem.startswith("日期格式不正确")
    start, end, problem = conversations.date_range(None, "0001-01-01")
    assert (end - start).days == 27 and end == conversations.today() and problem.startswith("日期格式不正确")
    start, end, problem = conversations.date_range("2020-01-01", "2026-11-08")
    assert (start, end) == (date(2025, 11, 8), date(2026, 11, 8)) and "最多查看366天" in problem


def test_test_bench_conversations_are_not_citizens(sqlite_tracker):
    from .tracker_events import Tracker, at

    path, _ = sqlite_tracker
    before = len(conversations.questions(path, *NOVEMBER))
    bench = Tracker(path)
    bench.start("staff-bench-0123456789abcdef", at(10, 16))
    bench.user("staff-bench-0123456789abcdef", "想开个洗车店", [("bundle_shop", 0.31)], fallback=True)
    bench.fallback("staff-bench-0123456789abcdef")
    bench.close()
    assert "staf" not in found(path)
    assert all(not q.sender_id.startswith("staff-bench-") for q in conversations.questions(path, *NOVEMBER))
    assert len(conversations.questions(path, *NOVEMBER)) == before


def test_dates_far_out_of_range_are_clamped_with_a_message_not_an_error():
    start, end, problem = conversations.date_range("0001-01-01", "9999-12-31")
    assert start >= date(2020, 1, 1) and (end - start).days == 365 and "超出的已改到这个范围内" in problem
    assert conversations.bounds(start, end)[0] < conversations.bounds(start, end)[1]  # no OverflowError


def test_the_list_pages_in_sql_and_counts_all_matches(tracker):
    path, _ = tracker
    pages = [conversations.conversations(path, Filters(*NOVEMBER), low=0.6, limit=2, offset=offset)
             for offset in (0, 2, 4, 6)]
    assert [[s.short[:4] for s in page] for page, _ in pages] == [["eeee", "dddd"], ["cccc", "bbbb"], ["aaaa"], []]
    assert {total for _, total in pages} == {5}
    assert conversations.conversations(path, Filters(*NOVEMBER, fallback=True), low=0.6, limit=1)[1] == 3


def test_a_bundle_filter_matches_whole_slugs_only(tracker):
    path, _ = tracker
    assert found(path, bundle="bab") == [] and found(path, bundle="_aby") == [] and found(path, bundle="%") == []
    assert found(path, bundle="baby,shop") == []


def test_the_list_reads_the_summary_index_not_the_events(sqlite_tracker):
    path, _ = sqlite_tracker
    with conversations.reader(path) as db:
        plan = " ".join(str(row) for row in db.exec_driver_sql(
            "explain query plan select sender_id from conversation_summaries where last_at >= 0 and first_at < 1 "
            "order by last_at desc limit 50"))
        questions = " ".join(str(row) for row in db.exec_driver_sql(
            "explain query plan select at from conversation_questions where at >= 0 and at < 1"))
    assert "conversation_summaries_last_at" in plan and "events" not in plan
    assert "conversation_questions_at" in questions
