"""The catalogue as the actions see it: loaded once per build, used off the event loop."""

from __future__ import annotations

import asyncio
import os
import time
from functools import lru_cache
from typing import Any, Callable

from catalogue import config
from catalogue.live import LiveCatalogue


@lru_cache(maxsize=1)
def live() -> LiveCatalogue:
    return LiveCatalogue(config.db_path())


def _fault_delay(sender_id: str | None) -> float:
    """Fault injection for tests only: senders with YISHI_FAULT_SLOW_SENDER as prefix wait this long."""
    prefix = os.environ.get("YISHI_FAULT_SLOW_SENDER")
    if prefix and sender_id and sender_id.startswith(prefix):
        return float(os.environ.get("YISHI_FAULT_DELAY_S", "3"))
    return 0.0


async def call(sender_id: str | None, work: Callable[..., Any], *args: Any) -> Any:
    """work(records, *args) in a worker thread, so a slow call never holds up other conversations."""
    delay = _fault_delay(sender_id)

    def run() -> Any:
        if delay:
            time.sleep(delay)
        return work(live().records(), *args)

    return await asyncio.to_thread(run)
