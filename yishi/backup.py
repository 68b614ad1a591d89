"""`yishi backup DIR`: a consistent copy of the embedded profile's SQLite files while Yishi runs (issue 14, req 6).

Each file is copied with SQLite's online backup API, page by page inside SQLite's own locking, so a copy taken while
citizens chat is a database as it was at one moment, never a half-written file (a plain `cp` of a WAL database can
be). Restoring is copying the files back while Yishi is stopped (README, "Backups").
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from yishi import settings

# what each file holds; the catalogue can be rebuilt from its YAML sources, but a copy restores it at once
FILES = {"YISHI_TRACKER_DB": "the conversations (Rasa's tracker store and the console's summaries)",
         "YISHI_WEB_DB": "the web app's store: staff accounts, unanswered questions, reviews",
         "YISHI_CATALOGUE_DB": "the built catalogue"}


def backup(target: Path, now: dt.datetime | None = None) -> list[tuple[str, Path]]:
    """Copies every SQLite file that exists into a new folder under target; returns (setting, copy) per file."""
    stamp = (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    folder = target / f"yishi-backup-{stamp}"
    folder.mkdir(parents=True, exist_ok=False)
    copies = []
    for name in FILES:
        source = settings.path(name)
        if not source.exists():
            continue
        copy = folder / source.name
        live = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
        try:
            with sqlite3.connect(copy) as out:
                live.backup(out)
        finally:
            live.close()
        copies.append((name, copy))
    return copies
