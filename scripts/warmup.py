"""Warm Rasa (jieba's dictionary, the model's first prediction) and the action server (the catalogue)
before `make run` reports ready, without creating a conversation in the tracker store."""

from __future__ import annotations

import json
import os
import time
import urllib.request

import jwt

TEXTS = ["你好", "我要开健身房", "娃儿刚出生要办啥子", "今天天气怎么样"]


def post(url: str, body: dict, headers: dict | None = None) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback only
        return json.loads(response.read())


def main() -> None:
    rasa = os.environ["YISHI_RASA_URL"]
    token = jwt.encode({"user": {"username": "yishi-warmup", "role": "admin"}},
                       os.environ["YISHI_RASA_JWT_SECRET"], algorithm="HS256")
    for text in TEXTS:
        post(f"{rasa}/model/parse", {"text": text}, {"Authorization": f"Bearer {token}"})
    tracker = {"sender_id": "warmup", "slots": {}, "events": [], "paused": False, "followup_action": None,
               "active_loop": {}, "latest_action_name": None,
               "latest_message": {"text": "", "intent": {"name": "choose_bundle", "confidence": 1.0},
                                  "entities": [{"entity": "bundle", "value": "gym"}], "intent_ranking": []}}
    post(os.environ["YISHI_ACTION_URL"], {"next_action": "action_show_bundle", "sender_id": "warmup",
                                         "tracker": tracker, "domain": {}, "version": "3.6.2"})
    started = time.perf_counter()
    post(f"{rasa}/model/parse", {"text": "想开个洗车铺子"}, {"Authorization": f"Bearer {token}"})
    print(f"    warm: a parse now takes {(time.perf_counter() - started) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
