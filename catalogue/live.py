"""The built catalogue as long-running servers see it: re-read whenever a new build replaces the file."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from . import db


class LiveCatalogue:
    """Records of the catalogue at path, loaded once per build (a build replaces the file atomically)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._records: db.Records | None = None
        self._meta: dict[str, str] = {}

    def _current(self) -> tuple[int, int, int]:
        stat = os.stat(self.path)  # FileNotFoundError when nothing was built yet
        return stat.st_ino, stat.st_mtime_ns, stat.st_size

    def records(self) -> db.Records:
        """The catalogue's records; the previous build keeps serving until a new one is complete."""
        stamp = self._current()
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    database = db.connect(self.path)
                    try:
                        self._records, self._meta = db.load(database), db.meta(database)
                    finally:
                        database.close()
                    self._stamp = stamp
        assert self._records is not None
        return self._records

    def meta(self) -> dict[str, str]:
        self.records()
        return dict(self._meta)

    def search(self, text: str, limit: int = 5) -> list[dict[str, Any]]:
        database = db.connect(self.path)
        try:
            return db.search(database, text, limit)
        finally:
            database.close()
