"""Check the sources against the schema and against each other; collect every error in one pass."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from . import schema
from .sources import ID_FIELD, KINDS, Record, SourceError, Sources

Condition = dict[str, list[str]]


@dataclass
class Catalogue:
    """Validated, normalised records keyed by id, ready to be written to SQLite."""

    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: {k: {} for k in KINDS})
    errors: list[SourceError] = field(default_factory=list)

    def __getitem__(self, kind: str) -> dict[str, dict[str, Any]]:
        return self.records[kind]


class _Checker:
    """Reports problems of one record against its file, record label and field."""

    def __init__(self, record: Record, errors: list[SourceError]):
        self.record = record
        self.errors = errors

    def error(self, field_name: str | None, message: str) -> None:
        self.errors.append(SourceError(self.record.file, self.record.line, self.record.label, field_name, message))


def validate(sources: Sources) -> Catalogue:
    """Normalise every record, then check the references between them."""
    cat = Catalogue(errors=list(sources.errors))
    kept = {kind: [(r, c) for r in sources.records[kind] if (c := _normalise(r, cat))] for kind in KINDS}
    for kind, check in _REFERENCE_CHECKS:
        for record, clean in kept[kind]:
            check(clean, _Checker(record, cat.errors), cat)
    _check_cycles(kept["items"], cat)
    _check_aliases(kept["bundles"], cat)
    cat.errors.sort(key=lambda e: (e.file, e.line or 0))  # stable: same-line errors keep their order
    return cat


def _normalise(record: Record, cat: Catalogue) -> dict | None:
    """The record with defaults filled in, or None when it is unusable (errors say why)."""
    check = _Checker(record, cat.errors)
    clean = _fields(record.data, schema.fields_of(record.kind), check, prefix="")
    if clean is None:
        return None
    key = clean[ID_FIELD[record.kind]]
    previous = cat[record.kind].get(key)
    if previous is not None:
        check.error(ID_FIELD[record.kind], f"duplicate {ID_FIELD[record.kind]} '{key}' (first defined in {previous['file']})")
        return None
    clean["file"] = record.file
    nested = schema.NESTED.get(record.kind)
    if nested is not None:
        name, fields = nested
        entries = [_nested_entry(entry, fields, check, f"{name}[{i}]") for i, entry in enumerate(clean[name])]
        if not entries:
            check.error(name, "must not be empty")
        if not entries or any(entry is None for entry in entries):
            return None
        clean[name] = entries
    cat[record.kind][key] = clean
    return clean


def _nested_entry(entry: Any, fields: dict[str, tuple], check: _Checker, where: str) -> dict | None:
    if not isinstance(entry, dict):
        check.error(where, "must be a mapping")
        return None
    return _fields(entry, fields, check, prefix=f"{where}.")


def _fields(data: dict, fields: dict[str, tuple], check: _Checker, prefix: str) -> dict | None:
    """Check types and fill defaults; None when a required field is missing or malformed."""
    clean: dict[str, Any] = {}
    ok = True
    for name in data:
        if name not in fields:
            check.error(prefix + name, f"unknown field; expected one of {', '.join(fields)}")
    for name, (kind, required, default) in fields.items():
        present = name in data and (data[name] is not None or kind in ("date", "text"))
        if not present:
            if required:
                hint = " (a date YYYY-MM-DD, or null when unchecked)" if kind == "date" else ""
                check.error(prefix + name, "is required" + hint)
                ok = False
            clean[name] = copy.copy(default)
            continue
        value, message = _coerce(kind, data[name])
        if message:
            check.error(prefix + name, message)
            ok = False
        clean[name] = value
    return clean if ok else None


def _coerce(kind: str, value: Any) -> tuple[Any, str | None]:
    if kind == "id":
        if isinstance(value, str) and schema.ID_PATTERN.match(value):
            return value, None
        return value, f"must be lower-case ascii letters, digits and '_', got {value!r}"
    if kind == "str":
        return (value.strip(), None) if isinstance(value, str) and value.strip() else (value, "must be non-empty text")
    if kind == "text":
        return (value, None) if value is None or isinstance(value, str) else (value, "must be text or null")
    if kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        return value, None if ok else f"must be a whole number ≥ 0, got {value!r}"
    if kind == "bool":
        return value, None if isinstance(value, bool) else f"must be true or false, got {value!r}"
    if kind == "strs":
        ok = isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)
        return ([v.strip() for v in value] if ok else value), None if ok else "must be a list of non-empty texts"
    if kind == "date":
        return _coerce_date(value)
    if kind == "cond":
        return _coerce_condition(value)
    if kind == "list":
        return value, None if isinstance(value, list) else "must be a list"
    if kind.startswith("choice:"):
        allowed = schema.CHOICES[kind.split(":", 1)[1]]
        return value, None if value in allowed else f"must be one of {', '.join(allowed)}, got {value!r}"
    raise ValueError(kind)


def _coerce_date(value: Any) -> tuple[Any, str | None]:
    if value is None:
        return None, None
    if isinstance(value, dt.date):
        return value.isoformat(), None
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value).isoformat(), None
        except ValueError:
            pass
    return value, f"must be a date YYYY-MM-DD or null, got {value!r}"


def _coerce_condition(value: Any) -> tuple[Any, str | None]:
    if value is None:
        return {}, None
    if not isinstance(value, dict):
        return value, "must be a mapping of question key to answer(s)"
    condition: Condition = {}
    for key, answers in value.items():
        answers = answers if isinstance(answers, list) else [answers]
        if not answers or not all(isinstance(a, (str, int)) and not isinstance(a, bool) for a in answers):
            return value, f"answers for '{key}' must be texts (quote \"yes\"/\"no\"), got {value[key]!r}"
        condition[str(key)] = [str(a) for a in answers]
    return condition, None


# --- references -----------------------------------------------------------------------------

def _ref(check: _Checker, cat: Catalogue, kind: str, field_name: str, value: str | None) -> None:
    if value is not None and value not in cat[kind]:
        check.error(field_name, f"unknown {kind[:-1]} '{value}'")


def _check_condition(check: _Checker, cat: Catalogue, field_name: str, condition: Condition) -> None:
    for key, answers in condition.items():
        question = cat["questions"].get(key)
        if question is None:
            check.error(field_name, f"refers to unknown question '{key}'")
            continue
        values = {o["value"] for o in question["options"]}
        for answer in answers:
            if answer not in values:
                check.error(field_name, f"question '{key}' has no option '{answer}' (options: {', '.join(sorted(values))})")


def _check_material(clean: dict, check: _Checker, cat: Catalogue) -> None:
    if clean["issuer"] == "department":
        if clean["issued_by"] is None:
            check.error("issued_by", "is required when issuer is department")
        _ref(check, cat, "departments", "issued_by", clean["issued_by"])
    elif clean["shared"]:
        check.error("shared", "only department-issued materials can be fetched by data sharing")


def _check_question(clean: dict, check: _Checker, cat: Catalogue) -> None:
    values = [o["value"] for o in clean["options"]]
    if len(values) < 2:
        check.error("options", "needs at least two options")
    if len(set(values)) != len(values):
        check.error("options", "option values must be unique")
    _check_condition(check, cat, "ask_when", clean["ask_when"])


def _check_item(clean: dict, check: _Checker, cat: Catalogue) -> None:
    _ref(check, cat, "departments", "department", clean["department"])
    _ref(check, cat, "materials", "result_material", clean["result_material"])
    for i, required in enumerate(clean["requires"]):
        _ref(check, cat, "items", f"requires[{i}]", required)
    seen = set()
    for i, use in enumerate(clean["materials"]):
        _ref(check, cat, "materials", f"materials[{i}].material", use["material"])
        if use["material"] in seen:
            check.error(f"materials[{i}].material", f"material '{use['material']}' is listed twice")
        seen.add(use["material"])
        if use["originals"] + use["copies"] == 0:
            check.error(f"materials[{i}]", "needs at least one original or copy")
        _check_condition(check, cat, f"materials[{i}].when", use["when"])


def _check_bundle(clean: dict, check: _Checker, cat: Catalogue) -> None:
    family, stage = clean["family"], clean["stage"]
    if family == "人生服务" and stage not in schema.PERSONAL_STAGES:
        check.error("stage", f"a 人生服务 bundle takes a life stage ({', '.join(schema.PERSONAL_STAGES)})")
    if family in ("企业开办", "工程建设项目") and stage not in schema.ENTERPRISE_STAGES:
        check.error("stage", f"an enterprise bundle takes a life-cycle stage ({', '.join(schema.ENTERPRISE_STAGES)})")
    _ref(check, cat, "departments", "lead_department", clean["lead_department"])
    if clean["merged_form"] is not None:
        form = cat["materials"].get(clean["merged_form"])
        if form is None:
            check.error("merged_form", f"unknown material '{clean['merged_form']}'")
        elif form["kind"] != "form":
            check.error("merged_form", f"material '{clean['merged_form']}' is not a form (kind: {form['kind']})")
    items = [entry["item"] for entry in clean["items"]]
    for i, entry in enumerate(clean["items"]):
        _ref(check, cat, "items", f"items[{i}].item", entry["item"])
        if items.count(entry["item"]) > 1 and items.index(entry["item"]) == i:
            check.error(f"items[{i}].item", f"item '{entry['item']}' is listed twice")
        _check_condition(check, cat, f"items[{i}].when", entry["when"])
    for kind, name in (("questions", "questions"), ("channels", "channels"), ("mechanisms", "mechanisms")):
        for i, value in enumerate(clean[name]):
            _ref(check, cat, kind, f"{name}[{i}]", value)
    if not clean["channels"]:
        check.error("channels", "must name at least one channel")


def _check_citation(clean: dict, check: _Checker, cat: Catalogue) -> None:
    if clean["region"] == "外省" and not clean["province"]:
        check.error("province", "a citation from another province names the province")
    if not (clean["url"] or clean["repo_path"] or clean["read_via"] == "project"):
        check.error("url", "say where the text was read: url, repo_path, or read_via: project")


def _check_provenance(clean: dict, check: _Checker, cat: Catalogue) -> None:
    """A record's region is that of a citation it cites (or 推断); every citation exists; no URL without one."""
    cited = []
    for i, citation_id in enumerate(clean["cites"]):
        citation = cat["citations"].get(citation_id)
        if citation is None:
            check.error(f"cites[{i}]", f"unknown citation '{citation_id}'")
        else:
            cited.append(citation)
    if clean["region"] != "推断" and not clean["cites"]:
        check.error("region", f"region {clean['region']} needs a citation in cites (or region: 推断)")
    elif clean["region"] != "推断" and cited and clean["region"] not in {c["region"] for c in cited}:
        check.error("region", f"region {clean['region']} is not the region of any citation it cites "
                              f"({', '.join(sorted({c['region'] for c in cited}))})")
    if clean.get("url") and not clean["cites"]:
        check.error("url", "a URL shown to citizens needs a citation in cites")


def _check_promise(clean: dict, check: _Checker, cat: Catalogue) -> None:
    if clean["promise_days"] is not None and not clean["promise_cites"]:
        check.error("promise_cites", "a published promise names the document that publishes it")
    for i, citation_id in enumerate(clean["promise_cites"]):
        _ref(check, cat, "citations", f"promise_cites[{i}]", citation_id)
    if clean["promise_cites"] and clean["promise_days"] is None:
        check.error("promise_days", "promise_cites without promise_days")


def _check_next_step(clean: dict, check: _Checker, cat: Catalogue) -> None:
    _ref(check, cat, "bundles", "from", clean["from"])
    _ref(check, cat, "bundles", "to", clean["to"])
    if clean["from"] == clean["to"]:
        check.error("to", "a bundle is not its own next step")


def _check_topic(clean: dict, check: _Checker, cat: Catalogue) -> None:
    for i, slug in enumerate(clean["bundles"]):
        _ref(check, cat, "bundles", f"bundles[{i}]", slug)
    if len(set(clean["bundles"])) < 2:
        check.error("bundles", "a topic asks back among at least two bundles")


def _check_exclusion(clean: dict, check: _Checker, cat: Catalogue) -> None:
    _ref(check, cat, "bundles", "bundle", clean["bundle"])


_REFERENCE_CHECKS = (
    ("citations", _check_citation),
    *((kind, _check_provenance) for kind in KINDS if kind != "citations"),
    ("materials", _check_material), ("questions", _check_question),
    ("items", _check_item), ("bundles", _check_bundle), ("bundles", _check_promise), ("next_steps", _check_next_step),
    ("topics", _check_topic), ("exclusions", _check_exclusion),
)


def _check_cycles(kept: list[tuple[Record, dict]], cat: Catalogue) -> None:
    """Report every prerequisite cycle once, at the first item of the cycle in file order."""
    items = cat["items"]
    reported: set[frozenset[str]] = set()
    for record, _clean in kept:
        start = record.key
        cycle = _find_cycle(start, items)
        if cycle and frozenset(cycle) not in reported:
            reported.add(frozenset(cycle))
            _Checker(record, cat.errors).error("requires", "prerequisite cycle: " + " → ".join(cycle + [cycle[0]]))


def _find_cycle(start: str, items: dict[str, dict]) -> list[str] | None:
    path: list[str] = []
    visiting: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in visiting:
            return path[path.index(node):]
        if node not in items:
            return None
        visiting.add(node)
        path.append(node)
        for nxt in items[node]["requires"]:
            found = visit(nxt)
            if found:
                return found
        path.pop()
        visiting.discard(node)
        return None

    found = visit(start)
    return found if found and found[0] == start else None


def _check_aliases(kept: list[tuple[Record, dict]], cat: Catalogue) -> None:
    """An alias (or a bundle name) must lead to exactly one bundle."""
    owner: dict[str, str] = {b["name"]: slug for slug, b in cat["bundles"].items()}
    for record, bundle in kept:
        check = _Checker(record, cat.errors)
        for i, alias in enumerate(bundle["aliases"]):
            other = owner.setdefault(alias, record.key)
            if other != record.key:
                check.error(f"aliases[{i}]", f"alias '{alias}' already leads to bundle '{other}'")
