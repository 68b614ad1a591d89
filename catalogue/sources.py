"""Read the YAML sources into plain records, remembering where each record came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

try:  # libyaml is several times faster; fall back to the pure-Python loader
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _BaseLoader = yaml.SafeLoader

KINDS = ("citations", "departments", "channels", "mechanisms", "materials", "questions", "items", "bundles",
         "next_steps", "topics", "exclusions")
ID_FIELD = {kind: "id" for kind in KINDS} | {"questions": "key", "bundles": "slug"}
LINE_KEY = "__line__"


class _LineLoader(_BaseLoader):
    """A safe loader that records the line of every mapping."""

    def construct_mapping(self, node, deep=False):  # noqa: D102 - PyYAML hook
        mapping = super().construct_mapping(node, deep=deep)
        mapping[LINE_KEY] = node.start_mark.line + 1
        return mapping


@dataclass(frozen=True)
class SourceError:
    """One problem in the sources, located by file, record and field."""

    file: str
    line: int | None
    record: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [where]
        if self.record:
            parts.append(self.record)
        if self.field:
            parts.append(f"field '{self.field}'")
        return ": ".join(parts) + f": {self.message}"


@dataclass
class Record:
    """One record of one kind, with its origin."""

    kind: str
    data: dict[str, Any]
    file: str
    line: int | None

    @property
    def key(self) -> str:
        value = self.data.get(ID_FIELD[self.kind])
        return value if isinstance(value, str) else repr(value)

    @property
    def label(self) -> str:
        return f"{self.kind[:-1]} '{self.key}'"


@dataclass
class Sources:
    """Every record read from a sources folder, and the problems met while reading."""

    root: Path
    records: dict[str, list[Record]] = field(default_factory=lambda: {k: [] for k in KINDS})
    errors: list[SourceError] = field(default_factory=list)


def read_sources(root: Path) -> Sources:
    """Read every *.yaml file below root; syntax and shape problems become errors, not exceptions."""
    result = Sources(root=root)
    if not root.is_dir():
        result.errors.append(SourceError(str(root), None, None, None, "sources folder not found"))
        return result
    for path in sorted(root.rglob("*.yaml")):
        _read_file(path, root, result)
    return result


def _read_file(path: Path, root: Path, result: Sources) -> None:
    name = str(path.relative_to(root))
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)  # noqa: S506 - safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        result.errors.append(SourceError(name, line, None, None, f"YAML syntax error: {exc.problem}"))
        return
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        result.errors.append(SourceError(name, None, None, None, f"cannot read: {exc}"))
        return
    if doc is None:
        return
    if not isinstance(doc, dict):
        result.errors.append(SourceError(name, 1, None, None, f"top level must be a mapping of {', '.join(KINDS)}"))
        return
    for kind, entries in doc.items():
        if kind == LINE_KEY:
            continue
        if kind not in KINDS:
            result.errors.append(SourceError(name, None, None, kind, f"unknown section; expected one of {', '.join(KINDS)}"))
            continue
        if not isinstance(entries, list):
            result.errors.append(SourceError(name, None, None, kind, "must be a list of records"))
            continue
        for entry in entries:
            if not isinstance(entry, dict):
                result.errors.append(SourceError(name, None, None, kind, f"each record must be a mapping, got {entry!r}"))
                continue
            line = entry.pop(LINE_KEY, None)
            result.records[kind].append(Record(kind, _strip_lines(entry), name, line))


def _strip_lines(value: Any) -> Any:
    """Remove the recorded line numbers from nested values."""
    if isinstance(value, dict):
        return {k: _strip_lines(v) for k, v in value.items() if k != LINE_KEY}
    if isinstance(value, list):
        return [_strip_lines(v) for v in value]
    return value
