"""A whole conversation through the REST webhook of the real Rasa server and action server."""

from __future__ import annotations

from assistant.payloads import RICH_CONTRACT
from catalogue.checklist import NOTICE


def test_bundle_answer_follow_up_switch_and_out_of_scope(stack, sender, customs, custom_of):
    # a bundle in colloquial words: the checklist, then the first situational question
    messages = stack.say(sender, "我想开个健身房，要办些啥子")
    bundle = custom_of(messages, "bundle")
    assert bundle["bundle"] == "gym"
    assert bundle["checklist"]["before"]["materials"] == 41 and bundle["checklist"]["after"]["materials"] == 25
    question = custom_of(messages, "question")
    assert all(m.get("text") for m in messages if "custom" not in m)
    button = next(m for m in messages if m.get("buttons"))["buttons"][0]

    # clicking the first option refines the list and records the answer
    messages = stack.say(sender, button["payload"])
    refined = custom_of(messages, "bundle")["checklist"]
    answered = {q["key"]: q["answer"] for q in refined["questions"]}
    assert answered[question["question"]] == question["options"][0]["value"]

    # a follow-up about the bundle in context, ending with the notice
    messages = stack.say(sender, "要带什么材料")
    assert "需要准备的材料" in messages[0]["text"] and messages[0]["text"].endswith(NOTICE)

    # switching bundle mid-talk
    assert custom_of(stack.say(sender, "想开个洗车铺子"), "bundle")["bundle"] == "car_wash"

    # out of scope: said plainly, and no bundle in that turn
    messages = stack.say(sender, "明天龙泉驿会下雨吗")
    assert [c["type"] for c in customs(messages)] == ["fallback"]
    assert "12345" in messages[0]["text"]


def test_every_reply_has_text_and_only_contract_payloads(stack, sender, customs):
    for text in ["你好", "娃儿刚生", "开店", "asdfgh", "谢谢", "你是机器人吗", "重新开始"]:
        messages = stack.say(sender, text)
        assert messages, text
        assert any(m.get("text") for m in messages), text
        assert {c["type"] for c in customs(messages)} <= {"bundle", "clarify", "question", "fallback"}


def test_asking_back_offers_candidates_as_buttons(stack, sender, customs, custom_of):
    messages = stack.say(sender, "想开个店")
    clarify = custom_of(messages, "clarify")
    assert len(clarify["options"]) >= 2
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert titles == [o["name"] for o in clarify["options"]] + ["都不是"]
    assert customs(stack.say(sender, '/choose_bundle{"bundle":"%s"}' % clarify["options"][0]["bundle"]))[0][
        "bundle"] == clarify["options"][0]["bundle"]


def test_conversation_is_persisted_in_the_sqlite_tracker_store(stack, sender):
    import sqlite3

    stack.say(sender, "二手房过户")
    with sqlite3.connect(stack.tracker_db) as db:
        user_events = db.execute("select count(*) from events where sender_id = ? and type_name = 'user'",
                                 (sender,)).fetchone()[0]
    assert user_events == 1


def socketio_talk(rasa_url: str, message: dict, until: str) -> list[dict]:
    """The bot's messages over socket.io for one user message, up to the first one whose text contains `until`."""
    import asyncio

    import socketio

    async def talk() -> list[dict]:
        client = socketio.AsyncClient()
        received: list[dict] = []
        done = asyncio.Event()

        @client.on("bot_uttered")
        async def on_bot(data):
            received.append(data)
            if until in (data.get("text") or ""):
                done.set()

        # long-polling: the websocket transport of this python-engineio needs a newer aiohttp than Rasa pins
        await client.connect(rasa_url, socketio_path="/socket.io", transports=["polling"])
        await client.emit("user_uttered", message)
        await asyncio.wait_for(done.wait(), timeout=30)
        await client.sleep(0.5)  # a payload sent after the last text
        await client.disconnect()
        return received

    return asyncio.run(talk())


def test_socketio_channel_follows_the_same_contract_for_a_client_that_announces_it(stack):
    received = socketio_talk(stack.rasa_url, {"message": "我要开健身房", "customData": RICH_CONTRACT}, "请问")
    assert received[0]["text"].startswith("**【我要开健身房】**")
    payloads = [m["custom"] for m in received if "custom" in m]
    assert [p["type"] for p in payloads] == ["bundle", "question"]
    assert payloads[0]["bundle"] == "gym" and payloads[0]["checklist"]["after"]["working_days"] == 14
    assert any(m.get("quick_replies") for m in received)


def test_any_other_socketio_client_gets_text_buttons_and_a_link_never_an_empty_message(stack):
    received = socketio_talk(stack.rasa_url, {"message": "我要开健身房", "customData": {"language": "zh"}}, "请问")
    assert all(set(m) <= {"text", "quick_replies"} and m.get("text") for m in received), received
    checklist, question = received
    assert checklist["text"].startswith("**【我要开健身房】**")
    assert checklist["text"].endswith("(http://127.0.0.1:8000/checklist/gym)")  # YISHI_PUBLIC_URL's default
    assert question["text"].startswith("为了让清单更准确，请问：") and question["quick_replies"]


def test_a_clients_opening_payload_gets_the_greeting_not_a_fallback(stack, sender, customs):
    """rasa-webchat and others send /get_started when they connect (issue 15)."""
    messages = stack.say(sender, "/get_started")
    assert messages and messages[0]["text"].startswith("您好！我是“一事”智能助手")
    assert not any(c.get("type") == "fallback" for c in customs(messages))
    other = stack.say(f"{sender}-2", "/get_started_now")  # anything else typed with a slash is plain text
    assert not other[0]["text"].startswith("您好！我是“一事”智能助手")
