"""The SQLite catalogue: the only module that knows its tables."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
from pathlib import Path
from typing import Any

import sqlite_utils

from . import schema, tokens
from .sources import ID_FIELD, KINDS

# (kind, field) → child table holding that list, one row per element with its position
CHILDREN = {
    ("items", "materials"): "item_materials",
    ("items", "requires"): "item_requires",
    ("bundles", "items"): "bundle_items",
    ("bundles", "questions"): "bundle_questions",
    ("bundles", "channels"): "bundle_channels",
    ("bundles", "mechanisms"): "bundle_mechanisms",
    ("bundles", "aliases"): "aliases",
}
# Element fields of the child tables that hold dicts, read from the schema like the records' own fields.
CHILD_FIELDS = {("items", "materials"): schema.ITEM_MATERIAL_FIELDS, ("bundles", "items"): schema.BUNDLE_ITEM_FIELDS}
JSON_TYPES, BOOL_TYPES = {"list", "cond", "strs"}, {"bool"}  # what SQLite cannot hold as it is


def _typed(fields: dict[str, tuple], types: set[str]) -> set[str]:
    return {name for name, (kind, _required, _default) in fields.items() if kind in types}


JSON_FIELDS = {kind: _typed(schema.fields_of(kind), JSON_TYPES) - {name for k, name in CHILDREN if k == kind}
               for kind in schema.FIELDS}
BOOL_FIELDS = {kind: _typed(schema.fields_of(kind), BOOL_TYPES) for kind in schema.FIELDS}
CHILD_JSON = {key: _typed(fields, JSON_TYPES) for key, fields in CHILD_FIELDS.items()}
CHILD_BOOL = {key: _typed(fields, BOOL_TYPES) for key, fields in CHILD_FIELDS.items()}
SEARCH_FIELDS = ("name", "alias", "item", "material")
SCHEMA_VERSION = "1"

Records = dict[str, dict[str, dict[str, Any]]]


def write(records: Records, path: Path) -> None:
    """Write the catalogue to path atomically: readers see the old file or the new, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        db = sqlite_utils.Database(tmp)
        with db.conn:
            _write_tables(db, records)
            _write_search(db, records)
            db["meta"].insert_all([
                {"key": "built_at", "value": dt.datetime.now().isoformat(timespec="seconds")},
                {"key": "schema_version", "value": SCHEMA_VERSION},
            ], pk="key")
        db.close()
        # The file is never written in place after this, so the default rollback journal is safe
        # for readers; replacing a WAL-mode file under open readers would not be.
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_tables(db: sqlite_utils.Database, records: Records) -> None:
    for kind in KINDS:
        key = ID_FIELD[kind]
        rows, children = [], {table: [] for (k, _), table in CHILDREN.items() if k == kind}
        for position, (record_id, record) in enumerate(records[kind].items()):
            row = {"position": position}
            for name, value in record.items():
                table = CHILDREN.get((kind, name))
                if table is None:
                    row[name] = json.dumps(value, ensure_ascii=False) if name in JSON_FIELDS[kind] else value
                    continue
                for i, element in enumerate(value):
                    child = {"owner": record_id, "position": i}
                    if isinstance(element, dict):
                        child |= {k: json.dumps(v, ensure_ascii=False) if k in CHILD_JSON[(kind, name)] else v
                                  for k, v in element.items()}
                    else:
                        child["value"] = element
                    children[table].append(child)
            rows.append(row)
        db[kind].insert_all(rows, pk=key, alter=True)
        for table, child_rows in children.items():
            db[table].insert_all(child_rows, pk=("owner", "position"), alter=True)
            db[table].create_index(["owner"], if_not_exists=True)


def _write_search(db: sqlite_utils.Database, records: Records) -> None:
    """One row per searchable text of a bundle; `tokens` holds its jieba search tokens."""
    words = tokens.vocabulary_key(vocabulary(records))
    db["vocabulary"].insert_all(({"word": w} for w in words), pk="word")
    rows = []
    for slug, bundle in records["bundles"].items():
        texts = [("name", bundle["name"])] + [("alias", a) for a in bundle["aliases"]]
        texts += [("item", records["items"][e["item"]]["name"]) for e in bundle["items"]]
        for field, text in texts:
            token_list = tokens.tokenize(text, words) + tokens.pieces(text)
            rows.append({"bundle": slug, "field": field, "text": text, "tokens": " ".join(dict.fromkeys(token_list))})
    db["search"].insert_all(rows)
    db["search"].enable_fts(["tokens"], fts_version="FTS5", tokenize="unicode61", create_triggers=False)


def vocabulary(records: Records) -> list[str]:
    """The catalogue's own words: bundle, item and material names and aliases, split at punctuation.

    jieba cuts text at brackets and slashes, so 结婚登记一件事（婚育/结婚落户） is useful only as
    its parts 结婚登记一件事, 婚育 and 结婚落户.
    """
    phrases = [b["name"] for b in records["bundles"].values()]
    phrases += [a for b in records["bundles"].values() for a in b["aliases"]]
    phrases += [i["name"] for i in records["items"].values()]
    phrases += [m["name"] for m in records["materials"].values()]
    words = [part for phrase in phrases for part in re.split(r"[^\w]+", phrase) if part]
    return list(dict.fromkeys(words))


def connect(path: Path) -> sqlite_utils.Database:
    """A read-only connection to a built catalogue; FileNotFoundError when there is none."""
    if not path.exists():
        raise FileNotFoundError(f"no catalogue at {path}: run `yishi catalogue build`")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    return sqlite_utils.Database(conn)


def load(db: sqlite_utils.Database) -> Records:
    """Every record of the catalogue, shaped exactly as the validated sources."""
    records: Records = {}
    for kind in KINDS:
        key = ID_FIELD[kind]
        children = {name: table for (k, name), table in CHILDREN.items() if k == kind}
        table = {}
        for row in db[kind].rows_where(order_by="position"):
            row.pop("position")
            table[row[key]] = _restore(row, JSON_FIELDS[kind], BOOL_FIELDS[kind])
            for name in children:
                table[row[key]][name] = []
        for name, child_table in children.items():
            if not db[child_table].exists():
                continue
            for child in db[child_table].rows_where(order_by="owner, position"):
                owner = child.pop("owner")
                child.pop("position")
                value = child["value"] if set(child) == {"value"} else \
                    _restore(child, CHILD_JSON[(kind, name)], CHILD_BOOL[(kind, name)])
                table[owner][name].append(value)
        records[kind] = table
    return records


def _restore(row: dict[str, Any], json_fields: set[str], bool_fields: set[str]) -> dict[str, Any]:
    """A row as the sources shaped it: JSON fields decoded, SQLite's 0/1 flags as booleans."""
    return {k: json.loads(v) if k in json_fields and v is not None
            else bool(v) if k in bool_fields and v is not None else v for k, v in row.items()}


def meta(db: sqlite_utils.Database) -> dict[str, str]:
    return {row["key"]: row["value"] for row in db["meta"].rows}


def search(db: sqlite_utils.Database, text: str, limit: int = 5) -> list[dict[str, Any]]:
    """Bundles whose name, aliases or items match text, best first; any text is safe to pass."""
    words = tokens.vocabulary_key(row["word"] for row in db["vocabulary"].rows)  # as the index was cut
    query_tokens = tokens.tokenize(text[:200], words)
    attempts = [" AND ".join(_quote(t) for t in query_tokens), " OR ".join(_quote(t) for t in query_tokens),
                " OR ".join(_quote(t) for t in tokens.pieces(text[:200]))]
    for match in attempts:
        if match:
            hits = _match(db, match, limit)
            if hits:
                return hits
    return []


def _quote(token: str) -> str:
    """An FTS5 string literal: the token can hold no operator, column filter or bracket."""
    return '"' + token.replace('"', '""') + '"'


def _match(db: sqlite_utils.Database, match: str, limit: int) -> list[dict[str, Any]]:
    sql = """
        select search.bundle as slug, bundles.name as name, search.text as text, search_fts.rank as score
        from search_fts join search on search.rowid = search_fts.rowid
        join bundles on bundles.slug = search.bundle
        where search_fts match :match order by search_fts.rank
    """
    best: dict[str, dict[str, Any]] = {}
    for row in db.query(sql, {"match": match}):
        hit = best.setdefault(row["slug"], {"slug": row["slug"], "name": row["name"],
                                            "score": round(-row["score"], 3), "matched": []})
        hit["matched"].append(row["text"])
    return list(best.values())[:limit]
