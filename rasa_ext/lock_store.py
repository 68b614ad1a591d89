"""The city profile's lock store: Rasa's Redis lock store, configured by settings, without its race (issue 14).

With several Rasa servers on one tracker store, Rasa's docs require a shared lock store, so that two servers never
handle one conversation at once. Rasa 3.6's open-source Redis lock store reads a conversation's lock, changes it
and writes it back in separate commands: two servers taking a message of the same conversation at once both read
"no lock", both write ticket 0, both go ahead, and one turn's events are lost (measured: tests/e2e/test_city.py,
2 of 3 turns stored). Here every such change is one optimistic Redis transaction (WATCH, then MULTI/EXEC, again
when another server changed the lock in between), so tickets are issued and removed one at a time. Yishi still
keeps each conversation on one server while it is healthy; the lock covers the moment a conversation moves.

A server that freezes mid-turn keeps holding its conversation's lock: Rasa's tickets live 60 s by default, and the
conversation, moved to a healthy server, would wait for them past the web app's chat timeout. Here a ticket lives
YISHI_LOCK_LIFETIME_S (a turn takes well under a second; measured in tests/e2e/test_city.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Optional
from urllib.parse import urlsplit

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore

from yishi import settings


class SettingsRedisLockStore(RedisLockStore):
    """RedisLockStore on YISHI_REDIS_URL (redis://host:port/db), the password from YISHI_REDIS_PASSWORD only."""

    def __init__(self, endpoint_config: Any = None) -> None:
        url = urlsplit(settings.text("YISHI_REDIS_URL"))
        super().__init__(host=url.hostname or "localhost", port=url.port or 6379, db=int(url.path.strip("/") or 0),
                         password=settings.text("YISHI_REDIS_PASSWORD") or None, key_prefix="yishi")

    def _change(self, conversation_id: str, change: Callable[[Optional[TicketLock]], tuple[Optional[TicketLock], Any]],
                ) -> Any:
        """Apply change(lock) atomically: it returns (the lock to store, or None to delete it; a result)."""
        import redis

        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    stored = pipe.get(key)
                    lock, result = change(TicketLock.from_dict(json.loads(stored)) if stored else None)
                    pipe.multi()
                    if lock is None:
                        pipe.delete(key)
                    else:
                        pipe.set(key, lock.dumps())
                    pipe.execute()
                    return result
                except redis.WatchError:  # another server changed this lock in between: read it again
                    continue

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        lock_lifetime = settings.number("YISHI_LOCK_LIFETIME_S")  # Rasa passes its own 60 s default

        def issue(lock: Optional[TicketLock]) -> tuple[TicketLock, int]:
            lock = lock or TicketLock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change(conversation_id, issue)
        except Exception as exc:  # as Rasa's own: the message then fails, it is never handled without a lock
            raise LockError(f"Error while acquiring lock. Error:\n{exc}") from exc

    def update_lock(self, conversation_id: str) -> None:
        def expire(lock: Optional[TicketLock]) -> tuple[Optional[TicketLock], None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, expire)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        def finish(lock: Optional[TicketLock]) -> tuple[Optional[TicketLock], None]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return lock, None

        self._change(conversation_id, finish)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        def finish_and_drop(lock: Optional[TicketLock]) -> tuple[Optional[TicketLock], None]:
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return (lock if lock.is_someone_waiting() else None), None

        self._change(conversation_id, finish_and_drop)
