"""Edit one record of the YAML sources from the console: the same validation as `yishi catalogue check`, and the
file's comments, quotes, key order and layout kept (ruamel.yaml's round trip).

Every write to the sources from the console (an edit, a new record, a record marked checked) happens inside
`sources_lock`: an exclusive lock (fcntl.flock) on a file in the sources folder, so two web workers (threads or
processes) never interleave their read-check-write and neither loses the other's change. A form carries the
version of the record it opened (a digest of its values): saving is refused when that record changed since, and
merged into the file as it is now when only other records of the file changed.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import io
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, ScalarString

from . import build as builder
from . import schema
from .sources import ID_FIELD, KINDS, LINE_KEY, Record, SourceError, _LineLoader, _strip_lines

LOCK_FILE = ".yishi-edit.lock"  # in the sources folder; not a *.yaml file, so neither read nor hashed
LOCK_TIMEOUT_S = 30.0
# the order a missing field is inserted in: the schema's fields, then provenance as the sources write it
PROVENANCE_ORDER = ("source", "region", "cites", "checked")


class EditError(ValueError):
    """The edit cannot be made; nothing was written."""


class Busy(EditError):
    """Another worker held the sources lock too long."""


class NotFound(EditError):
    """No such record, kind or source file."""


class Unkeepable(EditError):
    """The file would not come back byte for byte through the round trip: editing it here would reformat it."""


class Conflict(EditError):
    """The record changed (or went) since the form was opened; `current` is what it holds now (None: gone)."""

    def __init__(self, message: str, current: dict[str, Any] | None, opened: Opened | None = None):
        super().__init__(message)
        self.current = current
        self.opened = opened


class Invalid(EditError):
    """The edit makes the sources fail validation: `errors` are the problems it adds, located like `check`'s."""

    def __init__(self, errors: list[SourceError], existing: list[SourceError]):
        super().__init__("; ".join(map(str, errors)))
        self.errors = errors
        self.existing = existing


@contextmanager
def sources_lock(root: Path, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the sources' write lock (one holder at a time across threads and processes); Busy after timeout_s."""
    if not root.is_dir():
        raise NotFound(f"sources folder {root} not found")
    handle = open(root / LOCK_FILE, "a+b")  # noqa: SIM115 - closed below, after the lock is released
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise Busy(f"the sources in {root} stayed locked for {timeout_s:.0f} s") from None
                time.sleep(0.02)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()


def atomic_write(path: Path, data: bytes) -> None:
    """Replace path's bytes in one rename (a reader sees the old file or the new one, never half of it)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    try:
        tmp.write_bytes(data)
        shutil.copymode(path, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# --- reading one file the round-trip way -------------------------------------------------------------

def _yaml() -> YAML:
    """A round-trip YAML as the sources are written: quotes kept, `null` spelled out, lines never wrapped."""
    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.width = 1_000_000
    rt.indent(mapping=2, sequence=4, offset=2)
    rt.representer.add_representer(type(None), lambda r, _data: r.represent_scalar("tag:yaml.org,2002:null", "null"))
    return rt


@dataclass
class _Doc:
    """One source file loaded for editing."""

    path: Path
    name: str
    raw: bytes
    data: Any
    crlf: bool

    def dump(self) -> bytes:
        out = io.StringIO()
        _yaml().dump(self.data, out)
        text = out.getvalue()
        return (text.replace("\n", "\r\n") if self.crlf else text).encode("utf-8")


def _file_path(root: Path, file: str) -> Path:
    """The source file named relative to root; NotFound unless it is a *.yaml file inside root."""
    path = (root / file).resolve()
    if path.suffix != ".yaml" or not path.is_relative_to(root.resolve()) or not path.is_file():
        raise NotFound(f"no source file '{file}' in {root}")
    return path


def _load(root: Path, file: str) -> _Doc:
    path = _file_path(root, file)
    raw = path.read_bytes()
    text = raw.decode("utf-8")
    crlf = "\r\n" in text and text.count("\r\n") == text.count("\n")
    try:
        data = _yaml().load(text.replace("\r\n", "\n") if crlf else text)
    except Exception as exc:  # ruamel raises many kinds; all mean "not editable here"
        raise Unkeepable(f"{file}: cannot be read: {exc}") from exc
    doc = _Doc(path, file, raw, data, crlf)
    if doc.dump() != raw:
        raise Unkeepable(f"{file}: its layout would not survive an edit here (edit it by hand)")
    return doc


def _find(data: Any, kind: str, record_id: str) -> tuple[CommentedSeq, int] | None:
    entries = data.get(kind) if isinstance(data, dict) else None
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        if isinstance(entry, dict) and plain(entry.get(ID_FIELD[kind])) == record_id:
            return entries, i
    return None


def plain(value: Any) -> Any:
    """A round-trip value as plain Python: texts, numbers, booleans, lists, dicts; dates as YYYY-MM-DD."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, ScalarString):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


def version(record: dict[str, Any]) -> str:
    """A digest of a record's values: what a form opened, and what saving checks is still there."""
    text = json.dumps(plain(record), ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def file_hash(root: Path, file: str) -> str:
    return hashlib.sha256(_file_path(root, file).read_bytes()).hexdigest()


# --- opening a record ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Opened:
    """A record as a form opens it: where it is, the versions a save is checked against, its values."""

    kind: str
    record_id: str
    file: str
    line: int | None
    file_hash: str
    version: str
    values: dict[str, Any]


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise NotFound(f"unknown kind '{kind}'; expected one of {', '.join(KINDS)}")


def locate(root: Path, kind: str, record_id: str) -> str:
    """The file (relative to root) that holds the record, read the way `check` reads the sources."""
    _check_kind(kind)
    for path in sorted(root.rglob("*.yaml")) if root.is_dir() else []:
        try:
            doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)  # noqa: S506 - a safe loader
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        entries = doc.get(kind) if isinstance(doc, dict) else None
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and entry.get(ID_FIELD[kind]) == record_id:
                return str(path.relative_to(root))
    raise NotFound(f"no {kind[:-1]} '{record_id}' in {root}")


def open_record(root: Path, kind: str, record_id: str, file: str | None = None) -> Opened:
    """The record's file, line, versions and values (NotFound, Unkeepable)."""
    _check_kind(kind)
    file = file or locate(root, kind, record_id)
    doc = _load(root, file)
    found = _find(doc.data, kind, record_id)
    if found is None:
        raise NotFound(f"no {kind[:-1]} '{record_id}' in {file}")
    entries, i = found
    record = entries[i]
    return Opened(kind, record_id, file, record.lc.line + 1, hashlib.sha256(doc.raw).hexdigest(), version(record),
                  plain(record))


def files_with(root: Path, kind: str) -> list[str]:
    """Every source file, those that already hold records of this kind first."""
    names = [str(p.relative_to(root)) for p in sorted(root.rglob("*.yaml"))] if root.is_dir() else []
    holding = []
    for name in names:
        try:
            doc = yaml.safe_load((root / name).read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        if isinstance(doc, dict) and isinstance(doc.get(kind), list) and doc[kind]:
            holding.append(name)
    return holding + [n for n in names if n not in holding]


# --- comparing and setting values -------------------------------------------------------------------

def _fields(kind: str) -> dict[str, tuple]:
    return schema.fields_of(kind)


def _nested(kind: str, name: str) -> dict[str, tuple] | None:
    nested = schema.NESTED.get(kind)
    return nested[1] if nested and nested[0] == name else None


def _norm(spec: tuple, value: Any, nested: dict[str, tuple] | None = None) -> Any:
    """A value in the one form two values are compared in (None means the field's default)."""
    kind, _required, default = spec
    value = plain(value)
    if value is None:
        value = default
    if kind == "cond":
        return {str(k): [str(a) for a in (v if isinstance(v, list) else [v])] for k, v in (value or {}).items()} \
            if isinstance(value, dict) else value
    if kind == "strs" and isinstance(value, list):
        return [v.strip() if isinstance(v, str) else v for v in value]
    if kind == "str" and isinstance(value, str):
        return value.strip()
    if kind == "list" and nested is not None and isinstance(value, list):
        return [{n: _norm(s, row.get(n)) for n, s in nested.items()} if isinstance(row, dict) else row for row in value]
    return value


def _empty(value: Any) -> bool:
    return value is None or value == [] or value == {}


def _needs_quotes(text: str) -> bool:
    """Whether PyYAML (which `check` reads with: YAML 1.1) would read the plain text as something else than text."""
    return yaml.resolver.Resolver().resolve(yaml.ScalarNode, text, (True, False)) != "tag:yaml.org,2002:str"


def _text(value: str, old: Any = None) -> Any:
    """A text in the style of the value it replaces (quoted stays quoted), quoted where YAML 1.1 would misread it."""
    if isinstance(old, ScalarString):
        return type(old)(value)
    return DoubleQuotedScalarString(value) if _needs_quotes(value) else value


def _flow_seq(values: list) -> CommentedSeq:
    seq = CommentedSeq([_text(v) if isinstance(v, str) else v for v in values])
    seq.fa.set_flow_style()
    return seq


def _condition(value: dict) -> CommentedMap:
    condition = CommentedMap()
    for key, answers in value.items():
        if isinstance(answers, list) and len(answers) != 1:
            condition[key] = _flow_seq([str(a) for a in answers])
        else:
            condition[key] = _text(str(answers[0] if isinstance(answers, list) else answers))
    condition.fa.set_flow_style()
    return condition


def _to_yaml(spec: tuple, value: Any, old: Any = None, nested: dict[str, tuple] | None = None, flow: bool = True) -> Any:
    kind = spec[0]
    if value is None:
        return None
    if kind == "cond":
        return _condition(value)
    if kind == "date":
        return dt.date.fromisoformat(value) if isinstance(value, str) else value
    if kind == "strs":
        return _flow_seq(list(value))
    if kind == "list":
        seq = CommentedSeq([_new_map(nested or {}, row, flow=True) for row in value])
        if flow:
            seq.fa.set_flow_style()
        return seq
    if isinstance(value, str):
        return _text(value, old)
    return value


def _new_map(fields: dict[str, tuple], values: dict[str, Any], flow: bool, kind: str | None = None) -> CommentedMap:
    """A new mapping: its id, required fields, then every field given a value other than its default."""
    mapping = CommentedMap()
    order = _order(fields)
    for name in order:
        if name not in values:
            continue
        spec = fields[name]
        value = values[name]
        required = spec[1]
        if not required and (_empty(value) or _norm(spec, value) == _norm(spec, None)) and name != "checked":
            continue
        nested = _nested(kind, name) if kind else None
        mapping[name] = _to_yaml(spec, value, nested=nested, flow=not nested)
    if flow:
        mapping.fa.set_flow_style()
    return mapping


def _order(fields: dict[str, tuple]) -> list[str]:
    own = [n for n in fields if n not in PROVENANCE_ORDER]
    return own + [n for n in PROVENANCE_ORDER if n in fields]


def _trailing(mapping: CommentedMap, key: Any) -> Any:
    token = mapping.ca.items.get(key)
    return token[2] if token and len(token) > 2 else None


def _move_trailing(source: CommentedMap, source_key: Any, target: CommentedMap, target_key: Any) -> None:
    """Move what follows source_key's value line (blank lines, comments before the next record) to target_key."""
    token = _trailing(source, source_key)
    if token is None or "\n" not in token.value:
        return
    first, rest = token.value.split("\n", 1)
    if not rest:
        return
    if first.strip():  # an end-of-line comment stays where it is
        token.value = first + "\n"
    else:
        source.ca.items[source_key][2] = None
    slot = target.ca.items.setdefault(target_key, [None, None, None, None])
    if slot[2] is not None:  # the target line has its own end-of-line comment: what followed goes after it
        slot[2].value += rest
    else:
        slot[2] = type(token)("\n" + rest, token.start_mark, token.end_mark)


def _set_field(mapping: CommentedMap, fields: dict[str, tuple], name: str, value: Any, top: bool,
               kind: str | None = None) -> None:
    """Set one field in place: same key position, its comment and quoting kept; a new key after its predecessor."""
    spec = fields[name]
    nested = _nested(kind, name) if kind and top else None
    if _empty(value) and not spec[1] and not (top and spec[0] in ("text", "date")):
        if name in mapping:
            keys = list(mapping)
            if keys[-1] == name and len(keys) > 1:
                _move_trailing(mapping, name, mapping, keys[-2])
            del mapping[name]
        return
    old = mapping.get(name)
    if name in mapping:
        if spec[0] == "strs" and isinstance(old, CommentedSeq):
            del old[:]
            old.extend(_text(v) for v in value)
        elif spec[0] == "list" and nested is not None and isinstance(old, CommentedSeq):
            _set_rows(old, value, nested)
        else:
            mapping[name] = _to_yaml(spec, value, old, nested=nested, flow=not nested)
        return
    keys = list(mapping)
    order = _order(fields)
    before = [k for k in order[:order.index(name)] if k in mapping]
    position = max((keys.index(k) for k in before), default=-1) + 1
    mapping.insert(position, name, _to_yaml(spec, value, nested=nested, flow=not nested))
    if position == len(keys) and keys:
        _move_trailing(mapping, keys[-1], mapping, name)


def _set_rows(seq: CommentedSeq, rows: list[dict[str, Any]], fields: dict[str, tuple]) -> None:
    """Update a list of sub-records in place, matched by their first field: kept rows keep their text."""
    key = next(iter(fields))

    def key_of(entry: Any) -> Any:
        return plain(entry.get(key)) if isinstance(entry, dict) else None

    wanted = [row.get(key) for row in rows]
    flow = not seq or any(isinstance(e, CommentedMap) and e.fa.flow_style() for e in seq)
    for i in reversed(range(len(seq))):
        if key_of(seq[i]) not in wanted:
            del seq[i]
    for j, row in enumerate(rows):
        found = next((i for i in range(j, len(seq)) if key_of(seq[i]) == row.get(key)), None)
        if found is None:
            seq.insert(j, _new_map(fields, row, flow=flow))
            continue
        if found != j:
            seq.insert(j, seq.pop(found))
        if isinstance(seq[j], CommentedMap):
            _update(seq[j], fields, row, top=False)
        else:
            seq[j] = _new_map(fields, row, flow=flow)
    while len(seq) > len(rows):
        del seq[-1]


def _update(mapping: CommentedMap, fields: dict[str, tuple], values: dict[str, Any], top: bool,
            kind: str | None = None) -> dict[str, tuple[Any, Any]]:
    """Set the fields whose value differs from the record's; return them as {field: (before, after)}."""
    changed = {}
    for name, value in values.items():
        spec = fields[name]
        nested = _nested(kind, name) if kind and top else None
        before = _norm(spec, mapping.get(name), nested) if name in mapping else _norm(spec, None, nested)
        after = _norm(spec, value, nested)
        if before == after:
            continue
        was = plain(mapping.get(name)) if name in mapping else None
        _set_field(mapping, fields, name, value, top, kind)
        changed[name] = (was, plain(mapping.get(name)))
    return changed


# --- saving ---------------------------------------------------------------------------------------------

@dataclass
class Saved:
    """What a save wrote: where, which fields changed (before, after), and whether other edits were merged."""

    kind: str
    record_id: str
    file: str
    line: int | None
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    merged: bool = False
    created: bool = False


def _loaded_records(text: str, kind: str) -> tuple[dict[str, tuple[dict, int | None]], list]:
    """The file's records as `check` reads them: {(kind, id): (record, line)} and the non-record rest."""
    doc = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a safe loader
    records, rest = {}, []
    for section, entries in (doc or {}).items() if isinstance(doc, dict) else []:
        if section == LINE_KEY:
            continue
        if section not in KINDS or not isinstance(entries, list):
            rest.append((section, _strip_lines(entries)))
            continue
        for i, entry in enumerate(entries):
            if isinstance(entry, dict):
                line = entry.get(LINE_KEY)
                records[(section, plain(entry.get(ID_FIELD[section])) or f"#{i}")] = (_strip_lines(entry), line)
            else:
                rest.append((section, entry))
    return records, rest


def _verify(before: bytes, after: bytes, kind: str, record_id: str, expected: dict[str, Any]) -> int | None:
    """Read the new text as `check` reads it: the record holds exactly what was set, every other record is as it was.
    Returns the record's line."""
    old, old_rest = _loaded_records(before.decode("utf-8"), kind)
    new, new_rest = _loaded_records(after.decode("utf-8"), kind)
    target = (kind, record_id)
    if target not in new or _dates(new[target][0]) != _dates(expected):
        raise Unkeepable(f"{kind[:-1]} '{record_id}': the edit would not read back as written (edit it by hand)")
    others_old = {k: v[0] for k, v in old.items() if k != target}
    others_new = {k: v[0] for k, v in new.items() if k != target}
    if others_old != others_new or old_rest != new_rest:
        raise Unkeepable(f"{kind[:-1]} '{record_id}': the edit would change other records (edit it by hand)")
    return new[target][1]


def _dates(value: Any) -> Any:
    """PyYAML's dates as YYYY-MM-DD, to compare with plain()."""
    if isinstance(value, dict):
        return {str(k): _dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates(v) for v in value]
    return value.isoformat() if isinstance(value, dt.date) else value


def _validate(root: Path, file: str, data: bytes) -> None:
    """Run `check` on a copy of the sources holding the new file; Invalid with the errors the edit adds."""
    with tempfile.TemporaryDirectory(prefix="yishi-edit-") as folder:
        copy = Path(folder) / "sources"
        shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".*"))
        (copy / file).write_bytes(data)
        after = builder.check(copy).errors
    if not after:
        return
    before = builder.check(root).errors

    def key(error: SourceError) -> tuple:
        return error.file, error.record, error.field, error.message

    known = {key(e) for e in before}
    added = [e for e in after if key(e) not in known]
    if added:
        raise Invalid(added, [e for e in before if key(e) in {key(a) for a in after}])


def save(root: Path, kind: str, record_id: str, file: str, opened_version: str, values: dict[str, Any],
         opened_file_hash: str | None = None) -> Saved:
    """Write the changed fields of one record into its file; refused when the record changed since it was opened
    (Conflict), when the sources would not pass `check` (Invalid), or when the file's layout would not survive."""
    _check_kind(kind)
    fields = _fields(kind)
    unknown = [n for n in values if n not in fields or n == ID_FIELD[kind]]
    if unknown:
        raise EditError(f"fields that cannot be set here: {', '.join(unknown)}")
    with sources_lock(root):
        doc = _load(root, file)
        found = _find(doc.data, kind, record_id)
        if found is None:
            raise Conflict(f"{kind[:-1]} '{record_id}' is no longer in {file}", None)
        entries, i = found
        record = entries[i]
        if version(record) != opened_version:
            raise Conflict(f"{kind[:-1]} '{record_id}' changed since it was opened", plain(record),
                           Opened(kind, record_id, file, record.lc.line + 1, hashlib.sha256(doc.raw).hexdigest(),
                                  version(record), plain(record)))
        merged = opened_file_hash is not None and hashlib.sha256(doc.raw).hexdigest() != opened_file_hash
        changes = _update(record, fields, values, top=True, kind=kind)
        if not changes:
            return Saved(kind, record_id, file, record.lc.line + 1, merged=merged)
        data = doc.dump()
        line = _verify(doc.raw, data, kind, record_id, plain(record))
        _validate(root, file, data)
        atomic_write(doc.path, data)
    return Saved(kind, record_id, file, line, changes, merged)


def create(root: Path, kind: str, file: str, values: dict[str, Any]) -> Saved:
    """Add a new record at the end of its kind's list in file (the list is added when the file has none)."""
    _check_kind(kind)
    fields = _fields(kind)
    id_field = ID_FIELD[kind]
    record_id = values.get(id_field)
    if not isinstance(record_id, str) or not record_id:
        raise Invalid([SourceError(file, None, None, id_field, "is required")], [])
    with sources_lock(root):
        doc = _load(root, file)
        if doc.data is None:
            doc.data = CommentedMap()
        if not isinstance(doc.data, CommentedMap):
            raise Unkeepable(f"{file}: the top level is not a mapping")
        entries = doc.data.get(kind)
        if entries is not None and not isinstance(entries, CommentedSeq):
            raise Unkeepable(f"{file}: '{kind}' is not a list")
        if _find(doc.data, kind, record_id) is not None:
            raise Invalid([SourceError(file, None, Record(kind, values, file, None).label, id_field,
                                       f"duplicate {id_field} '{record_id}' (first defined in {file})")], [])
        last = entries[-1] if entries else None
        flow = bool(isinstance(last, CommentedMap) and last.fa.flow_style())
        record = _new_map(fields, {n: v for n, v in values.items() if n in fields}, flow=flow, kind=kind)
        if entries is None:
            doc.data[kind] = CommentedSeq([record])
        else:
            entries.append(record)
            if isinstance(last, CommentedMap) and not flow and last and record:
                _move_trailing(last, list(last)[-1], record, list(record)[-1])
        data = doc.dump()
        line = _verify(doc.raw, data, kind, record_id, plain(record))
        _validate(root, file, data)
        atomic_write(doc.path, data)
    changes = {name: (None, value) for name, value in plain(record).items()}
    return Saved(kind, record_id, file, line, changes, created=True)
