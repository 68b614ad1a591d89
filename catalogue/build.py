"""Validate the sources and build the SQLite catalogue and the jieba dictionary from them."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import db, tokens
from .sources import SourceError, read_sources
from .validate import Catalogue, validate


@dataclass
class BuildReport:
    """What a check or build found and did."""

    catalogue: Catalogue
    written: list[Path] = field(default_factory=list)

    @property
    def errors(self) -> list[SourceError]:
        return self.catalogue.errors

    @property
    def ok(self) -> bool:
        return not self.errors


def check(sources: Path) -> BuildReport:
    """Validate every source file; nothing is written."""
    return BuildReport(validate(read_sources(sources)))


# Files derived from the records by a layer above the catalogue (the assistant's Rasa data): the
# catalogue calls it after a build or a publish and knows nothing of what it writes.
Derive = Callable[[db.Records], list[Path]]


def build(sources: Path, db_path: Path, dictionary_dir: Path | None = None, derive: Derive | None = None) -> BuildReport:
    """Write the catalogue, and optionally the jieba dictionary and derived files, only when the sources are valid."""
    report = check(sources)
    if not report.ok:
        return report
    records = report.catalogue.records
    db.write(records, db_path)
    report.written.append(db_path)
    if dictionary_dir is not None:
        report.written.append(write_dictionary(records, dictionary_dir))
    if derive is not None:
        report.written += derive(records)
    return report


def write_dictionary(records: db.Records, folder: Path) -> Path:
    """The jieba user dictionary for Rasa's JiebaTokenizer: the folder holds this one file only."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "yishi.txt"
    text = tokens.user_dictionary(db.vocabulary(records))
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return path  # unchanged: keep the timestamp so training is not triggered needlessly
    tmp = folder.parent / f".{folder.name}.yishi.txt.tmp"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
