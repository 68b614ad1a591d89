"""The windowed tracker (issue 13: "message 51–60 no slower than 1.2× message 1–10"), measured without the web app
and the network: one Rasa agent in this process with the trained model and the real action server, the same
60-message conversations handled by two tracker stores in turn (the whole session, and a window of
YISHI_TRACKER_WINDOW's default), interleaved message by message so both see the same machine. Prints the median per
block of 10 messages and the ratio of the last block to the first for each. Figures, never pass/fail.

    .venv/bin/python bench/window_ab.py [conversations, default 6]
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from assistant.evaluation import load_cases  # noqa: E402
from tests.rasa_ext.rasa_side import _action_server  # noqa: E402
from yishi import settings  # noqa: E402


def main() -> None:
    import os

    from rasa.core.agent import Agent
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.tracker_store import FailSafeTrackerStore
    from rasa.utils.endpoints import EndpointConfig
    from rasa.utils.log_utils import configure_structlog

    from rasa_ext import speedups, strict
    from rasa_ext import tracker_store as ts

    conversations = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    os.chdir(settings.home())  # the model's pipeline names build/jieba relative to it
    logging.disable(logging.INFO)
    configure_structlog(logging.WARNING)
    speedups.install()
    strict.install()
    ts.install()
    texts = [c["text"] for c in load_cases(settings.path("YISHI_EVAL_CASES")) if c["kind"] == "bundle"]
    window = settings.integer("YISHI_TRACKER_WINDOW")
    process, url = _action_server()
    try:
        folder = tempfile.mkdtemp()
        stores = {w: ts.WalSQLTrackerStore(dialect="sqlite", db=f"{folder}/window-{w}.db", window=w) for w in (0, window)}
        agent = Agent.load(str(settings.path("YISHI_MODEL")), tracker_store=stores[0], action_endpoint=EndpointConfig(url))
        wrapped = {}
        for w, store in stores.items():
            store.domain = agent.processor.domain
            wrapped[w] = FailSafeTrackerStore(store)
        times: dict[int, list[list[float]]] = {w: [[] for _ in range(60)] for w in stores}

        async def run() -> None:
            for repeat in range(conversations):
                for i in range(60):
                    for w in (list(stores) if repeat % 2 else list(stores)[::-1]):  # alternate who goes first
                        agent.tracker_store = agent.processor.tracker_store = wrapped[w]
                        started = time.perf_counter()
                        await agent.handle_message(UserMessage(texts[i % len(texts)], CollectingOutputChannel(),
                                                               f"conversation-{repeat}"))
                        times[w][i].append((time.perf_counter() - started) * 1000)

        asyncio.run(run())
        for w in stores:
            per = [statistics.median(t) for t in times[w]]
            blocks = [statistics.median(per[i:i + 10]) for i in range(0, 60, 10)]
            name = "whole session" if w == 0 else f"window of {w}"
            print(f"{name:14s} median per 10 messages: " + ", ".join(f"{b:.1f}" for b in blocks)
                  + f" ms; messages 51–60 {blocks[-1] / blocks[0]:.2f}× messages 1–10")
    finally:
        process.terminate()
        process.wait()


if __name__ == "__main__":
    main()
