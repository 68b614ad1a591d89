"""Login throttling (issue 16, req 4) in both profiles: per (account, address) pair and, more loosely, per address,
with exponential backoff, decided in one write transaction; an attacker cannot keep a colleague out."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from web_widget import create_app, store
from web_widget.staff import auth

from .conftest import PASSWORD

ATTACKER, COLLEAGUE = "10.0.0.66", "10.0.0.7"
WRONG = "not the password at all"


@pytest.fixture
def app(store_profile):
    app = create_app(store_profile[1])
    with app.app_context():
        auth.add_account("wang.li", PASSWORD, "editor")
    return app


def outcome(response) -> str:
    text = response.get_data(as_text=True)
    if response.status_code == 302:
        return "in"
    if response.status_code == 401 and "用户名或密码不正确" in text:
        return "wrong"
    if response.status_code == 429 and "登录尝试次数过多" in text:
        return "throttled"
    return f"{response.status_code}: {text[:200]}"


def pair(app, username: str, address: str) -> dict | None:
    with app.app_context():
        return store.login_throttle(f"pair:{username}|{address}")


def unblock(app, subject: str) -> None:
    """As if the block had run out."""
    with app.app_context():
        store.connection().execute(store.sa.text("update login_throttle set blocked_until = :past where subject = :s"),
                                   {"past": time.time() - 1, "s": subject})


def test_thirty_parallel_wrong_passwords_get_exactly_five_tries_and_a_colleague_still_gets_in(app, login):
    def attack(_):
        return outcome(login(app.test_client(), password=WRONG, address=ATTACKER))

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(attack, range(30)))
    assert (outcomes.count("wrong"), outcomes.count("throttled")) == (5, 25), outcomes
    assert outcome(login(app.test_client(), address=ATTACKER)) == "throttled"  # even the right one, from there
    assert outcome(login(app.test_client(), address=COLLEAGUE)) == "in"  # the colleague at their own desk
    attacked = pair(app, "wang.li", ATTACKER)
    assert attacked["tries"] == 5 and 55 < attacked["blocked_until"] - time.time() <= 60
    assert pair(app, "wang.li", COLLEAGUE) is None  # a right password forgets the pair's tries


def test_the_block_doubles_with_every_further_wrong_try_and_a_right_password_ends_it(app, login):
    client = app.test_client()
    assert [outcome(login(client, password=WRONG, address=ATTACKER)) for _ in range(6)] == ["wrong"] * 5 + ["throttled"]
    throttled = login(client, password=WRONG, address=ATTACKER)
    assert 55 <= int(throttled.headers["Retry-After"]) <= 60 and "秒后再试" in throttled.get_data(as_text=True)
    blocks = []
    for _ in range(4):
        unblock(app, f"pair:wang.li|{ATTACKER}")
        assert outcome(login(client, password=WRONG, address=ATTACKER)) == "wrong"  # one try after each block
        assert outcome(login(client, password=WRONG, address=ATTACKER)) == "throttled"
        blocks.append(round(pair(app, "wang.li", ATTACKER)["blocked_until"] - time.time(), -1))
    assert blocks == [120, 240, 480, 900]  # 2, 4, 8 minutes, then at most 15
    with app.app_context():  # however long it goes on (the exponent is bounded: no overflow after weeks)
        store.connection().execute(store.sa.text("update login_throttle set tries = 5000 where subject = :s"),
                                   {"s": f"pair:wang.li|{ATTACKER}"})
    unblock(app, f"pair:wang.li|{ATTACKER}")
    assert outcome(login(client, password=WRONG, address=ATTACKER)) == "wrong"
    assert round(pair(app, "wang.li", ATTACKER)["blocked_until"] - time.time(), -1) == 900
    assert "分钟后再试" in login(client, password=WRONG, address=ATTACKER).get_data(as_text=True)
    unblock(app, f"pair:wang.li|{ATTACKER}")
    assert outcome(login(client, address=ATTACKER)) == "in"
    assert pair(app, "wang.li", ATTACKER) is None
    assert outcome(login(app.test_client(), password=WRONG, address=ATTACKER)) == "wrong"  # five fresh tries


def test_one_address_trying_many_accounts_meets_the_looser_address_limit(app, login):
    outcomes = [outcome(login(app.test_client(), username=f"guess{i}", password=WRONG, address=ATTACKER))
                for i in range(auth.ADDRESS_LIMIT[0] + 1)]
    assert outcomes == ["wrong"] * auth.ADDRESS_LIMIT[0] + ["throttled"]
    assert outcome(login(app.test_client(), address=ATTACKER)) == "throttled"  # that address is blocked for all
    assert outcome(login(app.test_client(), address=COLLEAGUE)) == "in"


def test_right_passwords_from_a_shared_address_do_not_use_up_its_limit(app, login):
    for _ in range(auth.ADDRESS_LIMIT[0] + 5):  # a whole office behind one address logging in all day
        assert outcome(login(app.test_client(), address=ATTACKER)) == "in"
    with app.app_context():
        assert store.login_throttle(f"address:{ATTACKER}")["tries"] == 0


def test_a_disabled_account_cannot_log_in_even_with_its_password(app, login):
    with app.app_context():
        auth.add_account("an.admin", PASSWORD, "admin")
        auth.set_disabled("wang.li", True, by="an.admin")
    refused = login(app.test_client())
    assert refused.status_code == 403 and "这个账号已停用" in refused.get_data(as_text=True)
    assert refused.headers.get("Set-Cookie") is None


@pytest.mark.parametrize("proxies", [0, 1])
def test_behind_a_proxy_the_clients_address_counts_and_a_forged_one_never_does(mini_db, tmp_path, proxies):
    """deploy/nginx appends the client's address to X-Forwarded-For: with YISHI_PROXIES=1 that address is the
    one throttled (not nginx's, shared by everyone); without, the header is ignored, so forging it gains nothing."""
    app = create_app({"TESTING": True, "CATALOGUE_DB": str(mini_db), "SECRET_KEY": "test",
                      "WEB_DB": str(tmp_path / "web.db"), "PROXIES": proxies})
    with app.app_context():
        auth.add_account("wang.li", PASSWORD, "editor")

    def login(password: str, forwarded: str):
        return outcome(app.test_client().post("/staff/login", data={"username": "wang.li", "password": password},
                                              headers={"X-Forwarded-For": forwarded},
                                              environ_base={"REMOTE_ADDR": "127.0.0.1"}))

    attack = [login(WRONG, f"198.51.100.{i}, {ATTACKER}") for i in range(6)]  # forged first entries, nginx's last
    assert attack == ["wrong"] * 5 + ["throttled"]
    assert login(PASSWORD, COLLEAGUE) == ("in" if proxies else "throttled")
    with app.app_context():
        assert store.login_throttle(f"address:{ATTACKER if proxies else '127.0.0.1'}")["tries"] == 5
