"""The web app's store in both profiles (issue 14, req 1): the embedded SQLite file, and the city profile's
PostgreSQL database with Redis for rate limits and staff sessions, shared by every web worker (here: two apps, as
two gunicorn workers or two hosts would be)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import sqlalchemy as sa

from web_widget import create_app, store
from web_widget.staff import auth

from .conftest import PASSWORD


@pytest.fixture
def workers(store_profile):
    """Two apps on one store: the embedded profile's SQLite file, or PostgreSQL and Redis."""
    profile, config = store_profile
    return profile, create_app(config), create_app(config)


def allowed(app, key: str, limit: int) -> bool:
    with app.app_context():
        return store.allow_all([(key, limit)])


def test_a_rate_limit_is_shared_by_every_worker_and_exact_under_a_burst(workers):
    _, one, two = workers
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda i: allowed(one if i % 2 else two, "s:burst", 5), range(30)))
    assert answers.count(True) == 5
    assert allowed(one, "s:other", 5)  # another key has its own count


def test_a_hit_on_several_keys_counts_on_all_of_them_or_on_none(workers):
    _, one, two = workers
    with one.app_context():
        assert store.allow_all([("s:a", 2), ("ip:x", 3)])
        assert store.allow_all([("s:b", 2), ("ip:x", 3)])
        assert store.allow_all([("s:a", 2), ("ip:x", 3)])
        assert not store.allow_all([("s:c", 2), ("ip:x", 3)])  # the address is at its limit: s:c is not counted
    with two.app_context():
        assert not store.allow_all([("s:a", 2), ("ip:y", 3)])  # the session is at its limit: ip:y is not counted
        assert store.allow_all([("s:c", 2), ("ip:y", 3)]) and store.allow_all([("s:c", 2), ("ip:y", 3)])
        assert store.allow_all([("s:d", 2), ("ip:y", 3)])
        assert not store.allow_all([("s:d", 2), ("ip:y", 3)])


def test_a_staff_session_opened_on_one_worker_is_known_to_the_other_and_ends_everywhere(workers, login):
    profile, one, two = workers
    with one.app_context():
        auth.add_account("wang.li", PASSWORD)
    first = one.test_client()
    assert login(first).status_code == 302
    cookie = first.get_cookie("yishi_staff", path="/staff").value
    second = two.test_client()
    second.set_cookie("yishi_staff", cookie, path="/staff")
    assert second.get("/staff/api/me").json["username"] == "wang.li"
    with one.app_context():
        kept = store.connection().exec_driver_sql("select count(*) from staff_sessions").scalar_one()
    if profile == "city":  # the session is in Redis, under a hash of its token: no working cookie is stored
        keys = redis.Redis.from_url(one.config["REDIS_URL"], decode_responses=True).keys("yishi:staff_session:*")
        assert kept == 0 and len(keys) == 1 and cookie not in keys[0]
    else:
        assert kept == 1
    page = first.get("/staff/").get_data(as_text=True)
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    first.post("/staff/logout", data={"csrf": csrf})
    assert second.get("/staff/api/me").status_code in (302, 401)


def test_what_the_store_keeps_reads_back_alike_in_both_profiles(workers):
    _, one, two = workers
    with one.app_context():
        store.keep_unanswered("visitor-1", "我的电话138****8000", "timeout")
        store.end_conversation("visitor-1")
        store.end_conversation("visitor-1")  # twice is once
        with store.writing():
            store.add_label("wang.li", 7, "visitor-1", "想开个小店", "bundle_shop")
        store.log_content("wang.li", "published", None, None, "12 records")
    with two.app_context():
        assert [(u["session"], u["text"]) for u in store.unanswered()] == [("visitor-1", "我的电话138****8000")]
        assert store.conversation_ended("visitor-1") and not store.conversation_ended("visitor-2")
        assert store.labels([7, 8]) == {7: {"intent": "bundle_shop", "username": "wang.li", "at": pytest.approx(
            store.labels([7])[7]["at"])}}
        assert store.content_log()[0]["detail"] == "12 records"


def test_a_failed_write_transaction_leaves_nothing_behind(workers):
    _, one, _ = workers
    with one.app_context():
        with pytest.raises(RuntimeError), store.writing():
            store.add_label("wang.li", 9, "visitor-1", "半截", "bundle_shop")
            raise RuntimeError("the review file could not be written")
        assert store.labels([9]) == {}
        store.add_label("wang.li", 10, "visitor-1", "之后", "bundle_shop")  # the request's connection still works
        assert list(store.labels([10])) == [10]


def test_each_profile_keeps_the_store_where_its_settings_say(workers, tmp_path):
    profile, one, _ = workers
    if profile == "embedded":
        assert (tmp_path / "web.db").exists()
        return
    assert not (tmp_path / "web.db").exists()  # the city profile needs no SQLite file
    with sa.create_engine(one.config["WEB_DB"]).connect() as db:
        assert {"unanswered", "staff", "review_labels"} <= set(sa.inspect(db).get_table_names())


def test_the_audit_trail_keeps_who_what_and_a_small_before_and_after(workers):
    _, one, two = workers
    with one.app_context():
        store.audit("wang.li", "rating_status", "rating:3", "待处理 → 已整改", before={"status": "待处理"},
                    after={"status": "已整改"})
        store.audit("li.na", "publish", None, "发布 12 条", after="x" * 5000)
    with two.app_context():
        newest, older = store.audit_log()
        assert (newest["username"], newest["action"], len(newest["after"])) == ("li.na", "publish", store.AUDIT_VALUE_MAX + 1)
        assert older["before"] == '{"status": "待处理"}' and older["target"] == "rating:3"
        assert [r["action"] for r in store.audit_log(username="wang.li")] == ["rating_status"]
