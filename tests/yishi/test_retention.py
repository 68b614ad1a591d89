"""Retention: old conversations go, new ones stay, and the demand figures of the old ones stay per day."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from web_widget import cli
from web_widget.staff import demand_stats
from web_widget.staff import tracker as tracker_reader
from yishi import db as databases
from yishi import retention, summaries

NOW = 1_800_000_000.0  # 2027-01-15 08:00 in Beijing
DAY = 86400


def user(text: str) -> dict:
    ranking = [{"name": "bundle_gym", "confidence": 0.9}]
    return {"event": "user", "text": text, "parse_data": {"intent": ranking[0], "intent_ranking": ranking}}


def bot(kind: str, bundle: str | None = None) -> dict:
    return {"event": "bot", "text": "…", "data": {"custom": {"type": kind, **({"bundle": bundle} if bundle else {})}}}


EVENTS = sa.MetaData()
sa.Table("events", EVENTS, sa.Column("id", sa.Integer, primary_key=True),  # Rasa 3.6's SQLTrackerStore table
         sa.Column("sender_id", sa.String(255), nullable=False), sa.Column("type_name", sa.String(255), nullable=False),
         sa.Column("timestamp", sa.Float), sa.Column("intent_name", sa.String(255)),
         sa.Column("action_name", sa.String(255)), sa.Column("data", sa.Text))


@pytest.fixture(params=["sqlite", "postgresql"])
def stores(request, tmp_path):
    """(tracker store, web app's store): two SQLite files (the embedded profile), or one PostgreSQL database
    holding both (the city profile)."""
    if request.param == "sqlite":
        return tmp_path / "rasa.db", tmp_path / "web.db"
    url = request.getfixturevalue("postgres_url")
    return url, url


def add_event(place, sender: str, event: dict) -> None:
    with databases.writing(place, "test") as db:
        db.execute(sa.text("insert into events (sender_id, type_name, timestamp, data) values (:s, :t, :at, :d)"),
                   {"s": sender, "t": event["event"], "at": event["timestamp"], "d": json.dumps(event, ensure_ascii=False)})


def tracker(place, conversations: dict[str, tuple[float, list[dict]]]) -> None:
    """A tracker store as Rasa's SQL store and Yishi's summaries keep it: events, then the summary tables."""
    with databases.writing(place, "test") as db:
        EVENTS.create_all(db)
        summaries.create(summaries.Sql(db))
    for sender, (start, events) in conversations.items():
        stamped = [dict(e, timestamp=start + 60 * i) for i, e in enumerate(events)]
        for event in stamped:
            add_event(place, sender, event)
        with databases.writing(place, "test") as db:
            summaries.record(summaries.Sql(db), sender, stamped)


def web_store(place) -> None:
    with databases.writing(place, "test") as db:
        db.exec_driver_sql("create table unanswered (id integer primary key, at real not null, session text not null, "
                           "text text not null, reason text not null)")
        db.exec_driver_sql("create table ended_conversations (session text primary key, at real not null)")
        for at, session, text, reason in [(NOW - 200 * DAY, "old", "我的电话138****8000", "timeout"),
                                          (NOW - DAY, "new", "新问题", "busy")]:
            db.execute(sa.text("insert into unanswered (id, at, session, text, reason) values (:id, :at, :s, :t, :r)"),
                       {"id": int(at), "at": at, "s": session, "t": text, "r": reason})
        db.execute(sa.text("insert into ended_conversations values ('old', :at)"), {"at": NOW - 300 * DAY})


def rows(place, sql: str) -> list[tuple]:
    with databases.connect(place) as db:
        return [tuple(r) for r in db.exec_driver_sql(sql)]


def test_old_conversations_go_new_ones_stay_and_old_weeks_keep_their_figures(stores):
    rasa_db, web_db = stores
    tracker(rasa_db, {
        "old-gym": (NOW - 200 * DAY, [user("想开健身房"), bot("bundle", "gym"), user("今天天气"), bot("fallback")]),
        "old-but-came-back": (NOW - 400 * DAY, [user("想开健身房"), bot("bundle", "gym")]),
        "new": (NOW - 3 * DAY, [user("想开健身房"), bot("bundle", "gym")]),
    })
    # the one that came back wrote again last week: its last event is recent, so it stays whole
    add_event(rasa_db, "old-but-came-back", dict(user("还在吗"), timestamp=NOW - 7 * DAY))
    web_store(web_db)
    day = tracker_reader.local(NOW - 200 * DAY).date()  # that day as the console counts days
    old_day = day.isoformat()
    before = demand_stats.days(tracker_reader.questions(rasa_db, day, day), day, day)[0]

    dry = retention.purge(rasa_db, web_db, 180, now=NOW, dry_run=True)
    assert (dry.conversations, dry.events, dry.questions, dry.web_rows) == (1, 4, 2, 2)
    assert rows(rasa_db, "select count(distinct sender_id) from events") == [(3,)]  # a dry run deletes nothing

    report = retention.purge(rasa_db, web_db, 180, now=NOW)
    assert (report.conversations, report.events, report.questions, report.web_rows) == (1, 4, 2, 2)
    assert rows(rasa_db, "select distinct sender_id from events order by 1") == [("new",), ("old-but-came-back",)]
    for table in ("conversation_summaries", "conversation_questions"):
        assert "old-gym" not in {r[0] for r in rows(rasa_db, f"select sender_id from {table}")}  # noqa: S608
    assert rows(web_db, "select session from unanswered") == [("new",)]
    assert rows(web_db, "select count(*) from ended_conversations") == [(0,)]
    # the console's figures for that old day: one question for the gym, one fallback; no text, no conversation id
    kept = retention.daily(rasa_db, old_day, old_day)
    assert sorted(kept) == [(old_day, "bundle", "gym", 1), (old_day, "fallback", "", 1)]
    left = tracker_reader.questions(rasa_db, day, day)
    after = demand_stats.days(left, day, day, kept)[0]
    assert left == [] and (before.total, before.fallback, before.bundles) == (2, 1, {"gym": 1})
    assert (after.total, after.fallback, after.bundles) == (before.total, before.fallback, before.bundles)
    # purging again changes nothing and counts nothing twice
    assert retention.purge(rasa_db, web_db, 180, now=NOW).conversations == 0
    assert sorted(retention.daily(rasa_db, old_day, old_day)) == sorted(kept)


def test_the_command_line_and_the_daily_claim(stores, monkeypatch, capsys):
    rasa_db, web_db = stores
    tracker(rasa_db, {"ancient": (1_000_000_000.0, [user("想开健身房"), bot("bundle", "gym")])})
    web_store(web_db)
    if str(rasa_db).startswith("postgresql"):
        monkeypatch.setenv("YISHI_DATABASE_URL", str(rasa_db))
    else:
        monkeypatch.setenv("YISHI_TRACKER_DB", str(rasa_db))
        monkeypatch.setenv("YISHI_WEB_DB", str(web_db))
    assert cli.main(["retention", "purge", "--dry-run"]) == 0
    assert capsys.readouterr().out.startswith("would delete: 1 conversations")
    assert cli.main(["retention", "purge"]) == 0
    assert capsys.readouterr().out.startswith("deleted: 1 conversations")
    assert rows(rasa_db, "select count(*) from events") == [(0,)]
    # one worker of many gets each day's run
    assert [retention.claim(web_db, "2027-01-15") for _ in range(3)] == [True, False, False]
    assert retention.claim(web_db, "2027-01-16")


def test_ratings_go_with_their_conversations_counted_per_day_but_an_open_complaint_stays_until_closed(stores):
    """好差评: a rating holds a conversation id and a masked sentence, so it goes when the conversation would, counted
    into rating_daily first; an open 差评 stays, and so does its conversation, until it is closed (已回复)."""
    from web_widget.store import META

    rasa_db, web_db = stores
    tracker(rasa_db, {sender: (NOW - 200 * DAY, [user("想开健身房"), bot("bundle", "gym")])
                      for sender in ("open-complaint", "closed-complaint", "praise")}
            | {"recent": (NOW - 3 * DAY, [user("想开健身房"), bot("bundle", "gym")])})
    with databases.writing(web_db, "test") as db:
        META.create_all(db)
        for sender, level, status, at in [("open-complaint", 1, "rectified", NOW - 200 * DAY),
                                          ("closed-complaint", 2, "replied", NOW - 200 * DAY),
                                          ("praise", 5, None, NOW - 200 * DAY), ("recent", 2, "pending", NOW - 3 * DAY)]:
            db.execute(sa.text("insert into ratings (at, conversation, bundle, level, reasons, text, opened, status) "
                               "values (:at, :c, 'gym', :level, '', '电话159****8304', :opened, :status)"),
                       {"at": at, "c": sender, "level": level, "opened": at if status else None, "status": status})
            db.execute(sa.text("insert into bundle_answers (conversation, bundle, at) values (:c, 'gym', :at)"),
                       {"c": sender, "at": at})
    day = retention.day_of(NOW - 200 * DAY)

    report = retention.purge(rasa_db, web_db, 180, now=NOW)
    assert (report.conversations, report.kept_open, report.ratings) == (2, 1, 2)
    assert rows(rasa_db, "select distinct sender_id from events order by 1") == [("open-complaint",), ("recent",)]
    assert rows(web_db, "select conversation, status from ratings order by id") == [("open-complaint", "rectified"),
                                                                                  ("recent", "pending")]
    assert rows(web_db, "select conversation from bundle_answers") == [("recent",)]  # what may be rated: old ones go
    assert sorted(rows(web_db, "select day, bundle, level, count from rating_daily")) == [(day, "gym", 2, 1), (day, "gym", 5, 1)]
    assert "kept for an open 差评: 1 conversations" in report.line()
    # nothing counted twice; once closed, the complaint and its conversation go at the next purge
    assert retention.purge(rasa_db, web_db, 180, now=NOW).ratings == 0
    with databases.writing(web_db, "test") as db:
        db.exec_driver_sql("update ratings set status = 'replied' where conversation = 'open-complaint'")
    report = retention.purge(rasa_db, web_db, 180, now=NOW)
    assert (report.conversations, report.kept_open, report.ratings) == (1, 0, 1)
    assert rows(rasa_db, "select distinct sender_id from events") == [("recent",)]
    assert rows(web_db, "select conversation from ratings") == [("recent",)]
    assert sorted(rows(web_db, "select day, bundle, level, count from rating_daily")) == [
        (day, "gym", 1, 1), (day, "gym", 2, 1), (day, "gym", 5, 1)]
