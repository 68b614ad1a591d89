"""The catalogue as the actions see it: loaded once per build, used off the event loop."""

from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Any, Callable

from catalogue import config
from catalogue.live import LiveCatalogue


@lru_cache(maxsize=1)
def live() -> LiveCatalogue:
    return LiveCatalogue(config.db_path())


async def call(sender_id: str | None, work: Callable[..., Any], *args: Any) -> Any:
    """work(records, *args) in a worker thread, so a slow call never holds up other conversations."""
    return await asyncio.to_thread(lambda: work(live().records(), *args))
