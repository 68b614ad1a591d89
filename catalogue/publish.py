"""Rebuild from the console: stage a build beside the live catalogue, publish it atomically, mark records checked."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils
import yaml

from . import build as builder
from . import db, editing
from .sources import ID_FIELD, KINDS, SourceError, read_sources

HASH_KEY = "sources_hash"  # meta row of a staged (and then published) build: the digest of its sources


class PublishError(RuntimeError):
    """The staged build cannot be published."""


class NothingStaged(PublishError):
    """No build waits in the staging file."""


class StaleStaging(PublishError):
    """The sources changed after staging, or another rebuild replaced the build that was reviewed."""


class MarkError(ValueError):
    """A record cannot be marked checked: it is not in the sources, or its file cannot be edited safely."""


def sources_hash(root: Path) -> str:
    """A digest of the names and bytes of every *.yaml file below root (the files read_sources reads)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.yaml")) if root.is_dir() else []:
        data = path.read_bytes()
        digest.update(f"{path.relative_to(root)}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


@dataclass
class Staged:
    """What staging found: the errors, or the new records now waiting in the staging file."""

    sources_hash: str
    errors: list[SourceError] = field(default_factory=list)
    records: db.Records | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def stage(sources: Path, staging_db: Path) -> Staged:
    """Validate the sources and build them into staging_db; the live catalogue is never touched."""
    digest = sources_hash(sources)  # taken first: an edit during the build makes the stage stale, never newer
    report = builder.check(sources)
    if not report.ok:
        staging_db.unlink(missing_ok=True)  # a previous preview no longer matches these sources
        return Staged(digest, errors=report.errors)
    staging_db.parent.mkdir(parents=True, exist_ok=True)
    tmp = staging_db.with_name(f".{staging_db.name}.{os.getpid()}.stage")
    try:
        db.write(report.catalogue.records, tmp)
        database = sqlite_utils.Database(tmp)
        with database.conn:
            database["meta"].upsert({"key": HASH_KEY, "value": digest}, pk="key")
        database.close()
        os.replace(tmp, staging_db)
    finally:
        tmp.unlink(missing_ok=True)
    return Staged(digest, records=report.catalogue.records)


def staged_hash(staging_db: Path) -> str | None:
    """The sources digest of the build waiting in staging_db, or None when nothing is staged."""
    if not staging_db.exists():
        return None
    database = db.connect(staging_db)
    try:
        return db.meta(database).get(HASH_KEY)
    finally:
        database.close()


@dataclass
class Published:
    """What publishing wrote: the live catalogue and the files the next `make model` trains on."""

    bundles: int
    written: list[Path]
    records: db.Records


def publish(staging_db: Path, live_db: Path, sources: Path, dictionary_dir: Path | None = None,
            derive: builder.Derive | None = None, expected_hash: str | None = None) -> Published:
    """Make the staged build live with one atomic rename; regenerate the jieba dictionary and derived files from it."""
    staged = staged_hash(staging_db)
    if staged is None:
        raise NothingStaged(f"nothing staged at {staging_db}")
    if staged != sources_hash(sources):
        raise StaleStaging(f"the sources in {sources} changed after the build was staged")
    if expected_hash is not None and staged != expected_hash:
        raise StaleStaging("another rebuild replaced the staged build that was reviewed")
    database = db.connect(staging_db)
    try:
        records = db.load(database)
    finally:
        database.close()
    written = []
    if dictionary_dir is not None:
        written.append(builder.write_dictionary(records, dictionary_dir))
    if derive is not None:
        written += derive(records)
    # a copy next to the live file, so the rename is atomic even when staging lives on another file system
    live_db.parent.mkdir(parents=True, exist_ok=True)
    tmp = live_db.with_name(f".{live_db.name}.{os.getpid()}.publish")
    try:
        shutil.copyfile(staging_db, tmp)
        os.replace(tmp, live_db)
    finally:
        tmp.unlink(missing_ok=True)
    staging_db.unlink(missing_ok=True)
    return Published(len(records["bundles"]), [live_db, *written], records)


# --- marking a record checked -------------------------------------------------------------------

@dataclass(frozen=True)
class Marked:
    """Where a check date was written, and what it was before."""

    file: str
    line: int
    previous: str | None
    changed: bool


def mark_checked(sources: Path, kind: str, record_id: str, today: dt.date) -> Marked:
    """Set `checked: <today>` on one record in its YAML file, editing that value's text and nothing else."""
    if kind not in KINDS:
        raise MarkError(f"unknown kind '{kind}'; expected one of {', '.join(KINDS)}")
    try:
        with editing.sources_lock(sources):  # the lock the console's edits take: a mark and an edit never interleave
            return _mark_checked(sources, kind, record_id, today)
    except editing.EditError as exc:
        raise MarkError(str(exc)) from exc


def _mark_checked(sources: Path, kind: str, record_id: str, today: dt.date) -> Marked:
    found = read_sources(sources)
    record = next((r for r in found.records[kind] if r.key == record_id), None)
    if record is None:
        unreadable = sorted({e.file for e in found.errors if e.message.startswith(("YAML", "cannot read"))})
        hint = f" (unreadable files: {', '.join(unreadable)})" if unreadable else ""
        raise MarkError(f"no {kind[:-1]} '{record_id}' in {sources}{hint}")
    path = sources / record.file
    raw = path.read_bytes().decode("utf-8")  # not read_text: keep the file's line endings
    node = _record_node(raw, kind, record_id)
    if node is None:
        raise MarkError(f"{record.file}: {kind[:-1]} '{record_id}' is not a plain record of '{kind}'")
    text, previous, line = _with_checked(raw, node, today.isoformat())
    if not _has_checked(text, kind, record_id, today):
        raise MarkError(f"{record.file}:{line}: {kind[:-1]} '{record_id}': could not set checked safely; edit it by hand")
    if text != raw:
        editing.atomic_write(path, text.encode("utf-8"))
    return Marked(record.file, line, previous, text != raw)


def _record_node(text: str, kind: str, record_id: str) -> yaml.MappingNode | None:
    """The mapping node of the record, with marks (character offsets) into text."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)  # pure-Python marks count characters, not bytes
    if not isinstance(root, yaml.MappingNode):
        return None
    for key, value in root.value:
        if key.value != kind or not isinstance(value, yaml.SequenceNode):
            continue
        for entry in value.value:
            if isinstance(entry, yaml.MappingNode) and any(
                    k.value == ID_FIELD[kind] and isinstance(v, yaml.ScalarNode) and v.value == record_id
                    for k, v in entry.value):
                return entry
    return None


def _with_checked(text: str, node: yaml.MappingNode, date: str) -> tuple[str, str | None, int]:
    """text with the record's `checked` value replaced (or added); the old value text; the line (1-based)."""
    fields = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    value = fields.get("checked")
    if isinstance(value, yaml.ScalarNode):
        start, end = value.start_mark.index, value.end_mark.index
        new = date if start < end or text[start - 1:start] != ":" else " " + date  # `checked:` with no value
        return text[:start] + new + text[end:], text[start:end] or None, value.start_mark.line + 1
    if value is not None:
        raise MarkError(f"line {value.start_mark.line + 1}: 'checked' must be a date or null")
    if node.flow_style:  # {id: x, …}: add the field after the last value
        last_value = node.value[-1][1]
        at = last_value.end_mark.index
        return text[:at] + f", checked: {date}" + text[at:], None, last_value.end_mark.line + 1
    # block mapping: a new line after the `source` line (or the first line), indented like the other keys
    anchor = fields.get("source") or node.value[0][1]
    if anchor.start_mark.line != anchor.end_mark.line:
        anchor = node.value[0][1]
    newline = "\r\n" if "\r\n" in text else "\n"
    end = text.find("\n", anchor.end_mark.index)
    end = len(text) if end < 0 else end + 1
    prefix = "" if text[end - 1:end] == "\n" else newline
    line = f"{prefix}{' ' * node.value[0][0].start_mark.column}checked: {date}{newline}"
    return text[:end] + line + text[end:], None, anchor.end_mark.line + 2


def _has_checked(text: str, kind: str, record_id: str, today: dt.date) -> bool:
    """Whether text still parses and the record now carries today's date."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return False
    records = doc.get(kind) if isinstance(doc, dict) else None
    for record in records if isinstance(records, list) else []:
        if isinstance(record, dict) and record.get(ID_FIELD[kind]) == record_id:
            return str(record.get("checked")) == today.isoformat()
    return False
