"""What the staff console shows of the records: where each comes from and when it was last checked."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .checklist import Records, bundle_questions
from .publish import sources_hash
from .sources import KINDS, SourceError, read_sources
from .validate import validate

Lines = dict[tuple[str, str], int | None]


@dataclass
class SourceView:
    """The sources as they are now: validated records, errors, each record's line, and their digest."""

    records: Records
    errors: list[SourceError]
    lines: Lines = field(default_factory=dict)
    digest: str = ""


def read(root: Path) -> SourceView:
    """Read and validate the sources, keeping the line of every record."""
    digest = sources_hash(root)
    found = read_sources(root)
    lines = {(kind, r.key): r.line for kind in KINDS for r in found.records[kind]}
    catalogue = validate(found)
    return SourceView(catalogue.records, catalogue.errors, lines, digest)


def citation_label(citation: dict[str, Any]) -> str:
    """A citation as staff read it: 《title》 issuer number date (province)."""
    parts = [f"《{citation['title']}》"] + [citation[k] for k in ("issuer", "number", "date") if citation.get(k)]
    return " ".join(parts) + (f"（{citation['province']}）" if citation.get("province") else "")


def record_row(cat: Records, kind: str, record_id: str, lines: Lines | None = None) -> dict[str, Any]:
    """One record as a row: id, name, region, its citations, the source note, checked, file and line."""
    record = cat[kind][record_id]
    if kind == "citations":
        source, citations = record.get("url") or record.get("repo_path") or "（项目内副本）", []
    else:
        source = record["source"]
        citations = [{"id": c, "label": citation_label(cat["citations"][c]), "url": cat["citations"][c]["url"]}
                     for c in record["cites"] if c in cat["citations"]]
    return {"kind": kind, "id": record_id,
            "name": record.get("name") or record.get("text") or record.get("title") or record_id,
            "region": record["region"], "citations": citations, "source": source, "checked": record["checked"],
            "file": record.get("file"), "line": (lines or {}).get((kind, record_id))}


def region_shares(cat: Records, slug: str) -> dict[str, int]:
    """How many of the records one bundle's checklist draws on rest on each region."""
    shares: dict[str, int] = {}
    for kind, ids in bundle_records(cat, slug).items():
        for record_id in ids:
            region = cat[kind][record_id]["region"]
            shares[region] = shares.get(region, 0) + 1
    return shares


def elsewhere_share(shares: dict[str, int]) -> float:
    """The share of records resting on another province or on nothing published (推断)."""
    total = sum(shares.values())
    return (shares.get("外省", 0) + shares.get("推断", 0)) / total if total else 0.0


def bundle_records(cat: Records, slug: str) -> dict[str, list[str]]:
    """Kind → ids of the records one bundle's checklist draws on."""
    bundle = cat["bundles"][slug]
    items = [entry["item"] for entry in bundle["items"]]
    materials = [use["material"] for i in items for use in cat["items"][i]["materials"]]
    materials += [bundle["merged_form"]] if bundle["merged_form"] else []
    departments = [bundle["lead_department"]] + [cat["items"][i]["department"] for i in items]
    departments += [cat["materials"][m]["issued_by"] for m in materials if cat["materials"][m]["issued_by"]]
    return {"bundles": [slug], "items": items, "materials": list(dict.fromkeys(materials)),
            "questions": bundle_questions(cat, slug), "departments": list(dict.fromkeys(departments)),
            "channels": list(bundle["channels"]), "mechanisms": list(bundle["mechanisms"])}


def usage(cat: Records) -> dict[tuple[str, str], list[str]]:
    """(kind, id) → slugs of the bundles whose checklist uses that record."""
    used: dict[tuple[str, str], list[str]] = {}
    for slug in cat["bundles"]:
        for kind, ids in bundle_records(cat, slug).items():
            for record_id in ids:
                used.setdefault((kind, record_id), []).append(slug)
    return used


def bundle_rows(cat: Records, lines: Lines | None = None) -> list[dict[str, Any]]:
    """Every bundle with its counts and how many of the records it draws on were never checked."""
    rows = []
    for slug, bundle in cat["bundles"].items():
        used = bundle_records(cat, slug)
        row = record_row(cat, "bundles", slug, lines)
        shares = region_shares(cat, slug)
        row |= {"family": bundle["family"], "stage": bundle["stage"], "items": len(used["items"]),
                "materials": len(used["materials"]), "regions": shares, "elsewhere": round(elsewhere_share(shares), 3),
                "never_checked": sum(cat[k][i]["checked"] is None for k in ("bundles", "items", "materials")
                                     for i in used[k])}
        rows.append(row)
    return rows


def bundle_detail(cat: Records, slug: str, lines: Lines | None = None) -> dict[str, Any]:
    """One bundle's own row and the rows of its items, materials and questions (KeyError when unknown)."""
    used = bundle_records(cat, slug)
    bundle = cat["bundles"][slug]
    items = []
    for entry in bundle["items"]:
        items.append(record_row(cat, "items", entry["item"], lines) | {"when": entry["when"]})
    materials = []
    for material_id in used["materials"]:
        row = record_row(cat, "materials", material_id, lines)
        row["used_in"] = [cat["items"][i]["name"] for i in used["items"]
                          if any(use["material"] == material_id for use in cat["items"][i]["materials"])]
        materials.append(row)
    return {"bundle": record_row(cat, "bundles", slug, lines) | {"family": bundle["family"], "stage": bundle["stage"]},
            "items": items, "materials": materials,
            "questions": [record_row(cat, "questions", key, lines) for key in used["questions"]]}


def unchecked_counts(cat: Records) -> dict[str, dict[str, int]]:
    """Kind → how many records there are and how many were never checked."""
    return {kind: {"total": len(cat[kind]), "never": sum(r["checked"] is None for r in cat[kind].values())}
            for kind in KINDS}


def filter_rows(rows: Iterable[dict[str, Any]], text: str = "", checked: str = "",
                before: str = "") -> list[dict[str, Any]]:
    """Rows whose id, name, region, source or file contain text; `never` checked, or checked `before` a date (or never)."""
    needle = text.strip().lower()
    kept = []
    for row in rows:
        haystack = " ".join(str(row[k] or "") for k in ("id", "name", "region", "source", "file")).lower()
        if needle and needle not in haystack:
            continue
        if checked == "never" and row["checked"] is not None:
            continue
        if checked == "before" and before and row["checked"] is not None and row["checked"] >= before:
            continue
        kept.append(row)
    return kept
