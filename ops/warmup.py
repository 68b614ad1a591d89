"""Warm Rasa (jieba's dictionary, the model, the dialogue policies, the tracker store, the action
endpoint) and the action server (the catalogue) before `make run` reports ready.

A short conversation runs through the REST channel as a throw-away sender, whose events are then
deleted from the tracker store, so staff never see it. `python -m ops.warmup` warms every server
of YISHI_RASA_URLS.
"""

from __future__ import annotations

import time
import uuid

import sqlalchemy as sa

from yishi import settings, summaries
from yishi.rasa_client import RasaClient

TEXTS = ["你好", "我要开健身房", "娃儿刚出生要办啥子", "今天天气怎么样"]


def warm(client: RasaClient, url: str, tracker: str) -> float:
    """Warm one server; the time in ms a message then takes."""
    server = RasaClient([url], client.jwt_secret, timeout=60, username="yishi-warmup")
    for text in TEXTS:
        server.parse(text)
    sender = f"yishi-warmup-{uuid.uuid4().hex}"
    for text in ["我要开健身房", "要多久", "谢谢"]:
        server.send(sender, text)
    _forget(tracker, sender)
    started = time.perf_counter()
    server.send(sender, "想开个洗车铺子")
    elapsed = (time.perf_counter() - started) * 1000
    _forget(tracker, sender)
    return elapsed


def _forget(tracker: str, sender: str) -> None:
    """Delete the warm-up conversation from the tracker store (a SQLAlchemy URL: SQLite or PostgreSQL)."""
    engine = sa.create_engine(tracker, connect_args={"timeout": 10} if tracker.startswith("sqlite") else {})
    try:
        with engine.begin() as db:
            for table in ("events", *summaries.TABLES[:2]):  # the console's summaries of it too (yishi/summaries.py)
                db.execute(sa.text(f"delete from {table} where sender_id = :sender"), {"sender": sender})  # noqa: S608
    finally:
        engine.dispose()


def main() -> None:
    client = RasaClient(settings.rasa_urls(), settings.text("YISHI_RASA_JWT_SECRET"))
    for url in client.urls:
        elapsed = warm(client, url, settings.tracker_url())
        print(f"    warm: a message to {url} now takes {elapsed:.0f} ms")


if __name__ == "__main__":
    main()
