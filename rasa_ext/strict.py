"""Tracker store errors reach the channel instead of being papered over (issue 14).

Rasa 3.6 wraps every tracker store in FailSafeTrackerStore: when reading a conversation fails it carries on with an
empty one, and when saving fails it saves into memory. The citizen then gets an answer that forgot everything said
before, and the turn is stored nowhere (measured with PostgreSQL stopped: tests/e2e/test_city.py answered a
checklist question as a new conversation). Here the error is logged and raised: the channel answers nothing, the
web app gives its polite fallback and keeps the question, and once the database is back the next turn continues the
stored conversation.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.tracker_store import FailSafeTrackerStore

logger = logging.getLogger(__name__)


def _failing(method: str, what: str) -> Callable[..., Awaitable[Any]]:
    """FailSafeTrackerStore.<method> without its fallback: the primary store's answer, or its error logged and raised."""

    async def call(self: FailSafeTrackerStore, *args: Any) -> Any:
        try:
            return await getattr(self._tracker_store, method)(*args)
        except Exception:
            logger.exception("the tracker store could not %s; it fails instead of an in-memory conversation", what)
            raise

    call.__name__ = method
    return call


def install() -> None:
    """Replace FailSafeTrackerStore's fallbacks (idempotent)."""
    FailSafeTrackerStore.retrieve = _failing("retrieve", "read a conversation")
    FailSafeTrackerStore.retrieve_full_tracker = _failing("retrieve_full_tracker", "read a conversation")
    FailSafeTrackerStore.save = _failing("save", "save a turn")
