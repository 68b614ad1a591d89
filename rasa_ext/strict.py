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
from typing import Any, Optional

from rasa.core.tracker_store import FailSafeTrackerStore

logger = logging.getLogger(__name__)


async def _retrieve(self: FailSafeTrackerStore, sender_id: str) -> Optional[Any]:
    try:
        return await self._tracker_store.retrieve(sender_id)
    except Exception:
        logger.exception("the tracker store could not read a conversation; this turn fails")
        raise


async def _retrieve_full_tracker(self: FailSafeTrackerStore, sender_id: str) -> Optional[Any]:
    try:
        return await self._tracker_store.retrieve_full_tracker(sender_id)
    except Exception:
        logger.exception("the tracker store could not read a conversation; this request fails")
        raise


async def _save(self: FailSafeTrackerStore, tracker: Any) -> None:
    try:
        await self._tracker_store.save(tracker)
    except Exception:
        logger.exception("the tracker store could not save a turn; it fails instead of being kept in memory")
        raise


def install() -> None:
    """Replace FailSafeTrackerStore's fallbacks (idempotent)."""
    FailSafeTrackerStore.retrieve = _retrieve
    FailSafeTrackerStore.retrieve_full_tracker = _retrieve_full_tracker
    FailSafeTrackerStore.save = _save
