"""Warm Rasa (jieba's dictionary, the model, the dialogue policies, the tracker store, the action
endpoint) and the action server (the catalogue) before `make run` reports ready.

A short conversation runs through the REST channel as a throw-away sender, whose events are then
deleted from the tracker store, so staff never see it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import urllib.request
import uuid

import jwt

TEXTS = ["你好", "我要开健身房", "娃儿刚出生要办啥子", "今天天气怎么样"]


def post(url: str, body: dict, headers: dict | None = None, timeout: float = 60) -> list | dict:
    """POST JSON to a loopback server and return the decoded JSON answer."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
        return json.loads(response.read())


def main() -> None:
    for rasa in os.environ["YISHI_RASA_URLS"].split(","):
        warm(rasa.strip())


def warm(rasa: str) -> None:
    token = jwt.encode({"user": {"username": "yishi-warmup", "role": "admin"}},
                       os.environ["YISHI_RASA_JWT_SECRET"], algorithm="HS256")
    for text in TEXTS:
        post(f"{rasa}/model/parse", {"text": text}, {"Authorization": f"Bearer {token}"})
    sender = f"yishi-warmup-{uuid.uuid4().hex}"
    for text in ["我要开健身房", "要多久", "谢谢"]:
        post(f"{rasa}/webhooks/rest/webhook", {"sender": sender, "message": text})
    with sqlite3.connect(os.environ["YISHI_TRACKER_DB"], timeout=10) as db:
        db.execute("delete from events where sender_id = ?", (sender,))
    started = time.perf_counter()
    post(f"{rasa}/webhooks/rest/webhook", {"sender": sender, "message": "想开个洗车铺子"})
    elapsed = (time.perf_counter() - started) * 1000
    with sqlite3.connect(os.environ["YISHI_TRACKER_DB"], timeout=10) as db:
        db.execute("delete from events where sender_id = ?", (sender,))
    print(f"    warm: a message to {rasa} now takes {elapsed:.0f} ms")


if __name__ == "__main__":
    main()
