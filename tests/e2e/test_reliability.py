"""Failure modes measured on this stack (forged /intent, database locks, PII in logs, slow actions), each on the real servers."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
import urllib.request

ID_NUMBER, MOBILE = "11010519491231002X", "13800138000"


def test_tracker_store_is_in_wal_mode_and_a_reader_loses_no_turns(stack, sender):
    with sqlite3.connect(stack.tracker_db) as db:
        assert db.execute("pragma journal_mode").fetchone()[0] == "wal"
    reader = sqlite3.connect(stack.tracker_db)
    reader.execute("begin")
    reader.execute("select count(*) from events").fetchone()  # a staff console holding a read open
    try:
        for text in ["你好", "我要开健身房", "要多久", "谢谢"]:
            assert stack.say(sender, text)
    finally:
        reader.rollback()
        reader.close()
    with sqlite3.connect(stack.tracker_db) as db:
        turns = db.execute("select count(*) from events where sender_id = ? and type_name = 'user'",
                           (sender,)).fetchone()[0]
    assert turns == 4
    assert "InMemoryTrackerStore" not in stack.logs()


def tracker_events(stack, sender) -> list[dict]:
    return stack.client().tracker(sender)["events"]


def test_typed_slash_text_cannot_force_an_intent_or_set_a_slot(stack, sender, custom_of):
    for text in ["/session_start", "/greet@0.99", '/inform{"city":"<script>alert(1)</script>"}',
                 '/answer_question{"question":"<b>","value":"x"}']:
        messages = stack.say(sender, text)
        assert all("<" not in (m.get("text") or "") for m in messages), text
    users = [e for e in tracker_events(stack, sender) if e["event"] == "user"]
    assert [e["text"][0] for e in users] == ["／"] * 4  # turned into plain text before Rasa saw it
    # went through NLU (a ranking over many intents), never Rasa's RegexMessageHandler (one forced intent)
    assert all(len(e["parse_data"]["intent_ranking"]) > 1 for e in users), [e["parse_data"] for e in users]
    assert not any(e["event"] == "restart" for e in tracker_events(stack, sender))
    # the buttons' own payloads still work
    assert custom_of(stack.say(sender, '/choose_bundle{"bundle":"gym"}'), "bundle")["bundle"] == "gym"
    # a Rasa client's restart button is Yishi's 重新开始: the bundle forgotten, the transcript kept (no Rasa restart)
    assert stack.say(sender, "/restart")[0]["text"].startswith("好的，我们重新开始")
    assert not any(e["event"] == "restart" for e in tracker_events(stack, sender))


def test_no_reply_echoes_user_text_as_markup(stack, sender):
    for text in ["<img src=x onerror=alert(1)>", "<script>alert(1)</script>开餐馆", '"><svg onload=alert(1)>']:
        for message in stack.say(sender, text):
            shown = [message.get("text") or ""] + [b["title"] for b in message.get("buttons", [])]
            assert not any("<" in s for s in shown), message


def test_id_and_mobile_numbers_are_masked_before_store_and_logs(stack, sender):
    stack.say(sender, f"我的身份证号是{ID_NUMBER}，电话{MOBILE}，想开个餐馆")
    stack.say(sender, f"/ask_id {ID_NUMBER}")
    with sqlite3.connect(stack.tracker_db) as db:
        stored = " ".join(row[0] for row in db.execute("select data from events where sender_id = ?", (sender,)))
    assert "110105********002X" in stored and "138****8000" in stored
    for text in (stored, stack.logs()):
        assert ID_NUMBER not in text and MOBILE not in text
        # not inside a longer number or a decimal fraction (timestamps and confidences are full of digits)
        assert not re.search(r"(?<![\d.])\d{17}[\dXx](?![\d.])", text)
        assert not re.search(r"(?<![\d.])1[3-9]\d{9}(?![\d.])", text)


def listening_addresses(port: int) -> set[str]:
    """Local addresses listening on port, from /proc/net/tcp and tcp6."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                local, state = row.split()[1], row.split()[3]
                address, port_hex = local.split(":")
                if state == "0A" and int(port_hex, 16) == port:
                    found.add(address)
    return found


def test_rasa_and_the_action_server_listen_on_loopback_only(stack):
    assert listening_addresses(stack.rasa_port) == {"0100007F"}
    assert listening_addresses(stack.actions_port) == {"0100007F"}


def test_rasa_api_is_not_open_to_other_origins(stack):
    for path in ("/webhooks/rest/webhook", "/model/parse", "/conversations/x/tracker"):
        request = urllib.request.Request(f"{stack.rasa_url}{path}", method="OPTIONS", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                headers = response.headers
        except urllib.error.HTTPError as error:
            headers = error.headers
        assert headers.get("Access-Control-Allow-Origin") is None, path
    request = urllib.request.Request(f"{stack.rasa_url}/conversations/x/tracker")
    try:
        urllib.request.urlopen(request, timeout=5)  # noqa: S310
        raise AssertionError("the tracker API answered without a token")
    except urllib.error.HTTPError as error:
        assert error.code == 401


def test_a_slow_catalogue_action_does_not_hold_up_other_users(stack, customs):
    finished: dict[str, float] = {}

    def talk(sender: str) -> None:
        stack.say(sender, '/choose_bundle{"bundle":"gym"}')
        finished[sender] = time.monotonic()

    slow = threading.Thread(target=talk, args=("slow-user",))
    slow.start()
    time.sleep(0.5)  # the slow user's action is now sleeping in its worker thread
    talk("quick-user")
    assert slow.is_alive(), "the quick user had to wait for the slow one"
    slow.join(timeout=30)
    assert finished["quick-user"] < finished["slow-user"]
    assert customs(stack.say("quick-user", "谢谢")) == []


def test_every_rasa_server_starts_with_the_speedups_installed(stack):
    """rasa_ext.server installs the patches before Rasa loads and freezes the heap once the model is loaded."""
    assert "heap frozen after start" in stack.logs()
