"""Rasa clients that know nothing of Yishi (issue 15): plain REST as `rasa shell` or a chat app uses it, and CORS
for the sites on the allow-list only."""

from __future__ import annotations

import uuid

import requests
from markdown_it import MarkdownIt

COMMONMARK = MarkdownIt("commonmark")


def plain_rest(stack, sender: str, text: str) -> list[dict]:
    """A message as `rasa shell` and other plain clients send it: no metadata, so no rich contract."""
    response = requests.post(f"{stack.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                             timeout=30)
    response.raise_for_status()
    return response.json()


def blocks(text: str) -> list[tuple[str, str]]:
    """(block kind, its text) of a reply rendered as CommonMark: ("paragraph", …), ("list", one item), or any other
    block by its token type (heading, blockquote, code, html, …)."""
    found, lists, kind = [], [], None
    for token in COMMONMARK.parse(text):
        if token.type in ("bullet_list_open", "ordered_list_open"):
            lists.append("list" if token.type == "bullet_list_open" else "ordered_list")
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif token.type.endswith("_open"):
            kind = lists[-1] if lists else token.type.removesuffix("_open")
        elif token.type in ("code_block", "fence", "html_block", "hr"):
            found.append((token.type, token.content))
        elif token.type == "inline":
            found.append((kind, token.content))
    return found


def inline_kinds(text: str) -> set[str]:
    return {child.type for token in COMMONMARK.parse(text) if token.type == "inline" for child in token.children or []}


def test_a_plain_rest_client_gets_a_checklist_as_markdown_that_reads_as_plain_text(stack):
    sender = f"shell-{uuid.uuid4().hex}"
    greeting = plain_rest(stack, sender, "/get_started")
    assert greeting[0]["text"].startswith("您好！我是“一事”智能助手")
    messages = plain_rest(stack, sender, "想开个洗车铺子")
    assert all("custom" not in m and m.get("text") for m in messages), messages
    checklist, question = messages
    parsed = blocks(checklist["text"])
    kinds = [kind for kind, _ in parsed]
    # a bold title, then paragraphs and two lists (items, materials); nothing else
    assert parsed[0] == ("paragraph", "**【我要开洗车场】**") and set(kinds) == {"paragraph", "list"}
    assert kinds.count("list") == 4 + 17  # one entry per item and per material
    assert ("list", "城镇污水排入排水管网许可——区水务局") in parsed
    assert inline_kinds(checklist["text"]) <= {"text", "strong_open", "strong_close", "link_open", "link_close",
                                               "softbreak"}
    assert parsed[-1] == ("paragraph", "[打开可打印的清单（可存到手机、可打印）](http://127.0.0.1:8000/checklist/car_wash)")
    # as plain text: one reply (Rasa cuts a text at every empty line), lines a terminal shows as they are
    lines = checklist["text"].split("\n")
    assert "\\" not in checklist["text"] and not any(line.startswith((" ", "#", ">")) for line in lines if line.strip())
    assert question["text"] == "为了让清单更准确，请问：是否已经领取营业执照？"
    assert [b["title"] for b in question["buttons"]] == ["已有营业执照", "还没有，一起办"]

    follow_up = plain_rest(stack, sender, "要带哪些材料")
    assert [kind for kind, _ in blocks(follow_up[0]["text"])].count("list") == 17
    out_of_scope = plain_rest(stack, sender, "今天天气怎么样")
    assert out_of_scope and all("custom" not in m and m.get("text") for m in out_of_scope)
    assert "不属于" in out_of_scope[0]["text"] and out_of_scope[0]["buttons"]


def test_cors_for_the_allowed_sites_only_and_never_on_rasas_http_api(stack):
    allowed = stack.env["YISHI_WIDGET_ORIGINS"]
    webhook = f"{stack.rasa_url}/webhooks/rest/webhook"
    preflight = requests.options(webhook, headers={"Origin": allowed, "Access-Control-Request-Method": "POST",
                                                   "Access-Control-Request-Headers": "content-type"}, timeout=10)
    assert preflight.headers["Access-Control-Allow-Origin"] == allowed
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]
    reply = requests.post(webhook, json={"sender": f"cors-{uuid.uuid4().hex}", "message": "你好"},
                          headers={"Origin": allowed}, timeout=30)
    assert reply.status_code == 200 and reply.headers["Access-Control-Allow-Origin"] == allowed
    handshake = requests.get(f"{stack.rasa_url}/socket.io/?EIO=4&transport=polling", headers={"Origin": allowed},
                             timeout=10)
    assert handshake.status_code == 200 and handshake.headers["Access-Control-Allow-Origin"] == allowed

    for origin in ("https://evil.example", allowed.replace("127.0.0.1", "localhost"), "null"):
        for method, url in (("OPTIONS", webhook), ("POST", webhook)):
            refused = requests.request(method, url, json={"sender": "x", "message": "你好"},
                                       headers={"Origin": origin, "Access-Control-Request-Method": "POST"}, timeout=30)
            assert "Access-Control-Allow-Origin" not in refused.headers, (origin, method)
    # Rasa's HTTP API (JWT) answers no site, allowed or not
    for path in ("/version", "/status", "/model/parse"):
        for method in ("OPTIONS", "GET"):
            api = requests.request(method, stack.rasa_url + path, headers={"Origin": allowed,
                                                                          "Access-Control-Request-Method": "POST"},
                                   timeout=10)
            assert "Access-Control-Allow-Origin" not in api.headers, (path, method)
