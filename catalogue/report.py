"""Figures over the whole catalogue, and the plain-text form of a checklist."""

from __future__ import annotations

from typing import Any

from . import markdown as md
from .checklist import Records, checklist

FIGURES = ("steps", "materials", "working_days")


def reduction(before: int, after: int) -> float:
    """The share saved, as a fraction (0 when there was nothing before)."""
    return (before - after) / before if before else 0.0


def stats(cat: Records) -> dict[str, Any]:
    """Bundle count and average per-bundle reductions, each bundle taken with no answers; working days
    both as computed along the prerequisite chain and with each published promise where a bundle has
    one; and the share of citizen-visible records by region."""
    rows = []
    for slug in cat["bundles"]:
        result = checklist(cat, slug)
        before, after = result["before"], result["after"]
        rows.append({"slug": slug, "before": before, "after": after, "time_limit": result["time_limit"],
                     "reduction": {f: round(reduction(before[f], after[f]), 4) for f in FIGURES},
                     "published_days_reduction": round(reduction(before["working_days"],
                                                                 result["time_limit"]["working_days"]), 4)})
    count = len(rows)
    average = {f: round(sum(r["reduction"][f] for r in rows) / count, 4) if count else 0.0 for f in FIGURES}
    published = round(sum(r["published_days_reduction"] for r in rows) / count, 4) if count else 0.0
    families: dict[str, int] = {}
    for bundle in cat["bundles"].values():
        families[bundle["family"]] = families.get(bundle["family"], 0) + 1
    return {"bundles": count, "reduction": average, "working_days_with_promises": published,
            "promises": sum(r["time_limit"]["kind"] == "promise" for r in rows), "families": families,
            "regions": region_shares(cat), "per_bundle": rows}


def visible_records(cat: Records) -> set[tuple[str, str]]:
    """(kind, id) of every record some bundle's checklist shows a citizen."""
    seen: set[tuple[str, str]] = set()
    for slug, bundle in cat["bundles"].items():
        seen.add(("bundles", slug))
        seen.update(("channels", c) for c in bundle["channels"])
        seen.update(("mechanisms", m) for m in bundle["mechanisms"])
        seen.update(("questions", q) for q in bundle["questions"])
        seen.add(("departments", bundle["lead_department"]))
        for entry in bundle["items"]:
            item = cat["items"][entry["item"]]
            seen.add(("items", entry["item"]))
            seen.add(("departments", item["department"]))
            seen.update(("materials", use["material"]) for use in item["materials"])
    return seen


def region_shares(cat: Records) -> dict[str, float]:
    """The share of citizen-visible records resting on each region (成都 … 推断)."""
    counts: dict[str, int] = {}
    records = visible_records(cat)
    for kind, record_id in records:
        region = cat[kind][record_id]["region"]
        counts[region] = counts.get(region, 0) + 1
    order = ("成都", "四川", "国家", "外省", "推断")
    return {r: round(counts[r] / len(records), 4) for r in order if r in counts}


def material_line(material: dict) -> str:
    """One material as a list line (Markdown-escaped): name, originals and copies, whether it applies."""
    count = f"原件{material['originals']}份" if material["originals"] else ""
    if material["copies"]:
        count += f"{'、' if count else ''}复印件{material['copies']}份"
    marks = [count] if count else []
    if material["if_applicable"]:
        marks.append("如适用")
    if material["skip_reason"]:
        marks.append(material["skip_reason"])
    return md.escape(f"{material['name']}（{'；'.join(marks)}）")


def checklist_text(result: dict[str, Any]) -> str:
    """The checklist as text for channels and terminals without Yishi's card: Markdown blocks (a bold title,
    paragraphs, `-` lists) that read as plain text too."""
    parts = [md.title(f"【{result['name']}】"), md.escape(result["summary"])]
    if not result["items"]:
        parts.append("按您的情况，这件事不需要另外办理审批事项。")
    else:
        parts.append("包含事项：")
        parts.append(md.bullets(md.escape(f"{item['name']}{'（如适用）' if item['if_applicable'] else ''}"
                                          f"——{item['department']['name']}") for item in result["items"]))
        parts.append(f"需要准备的材料（{len(result['materials'])}份）：")
        parts.append(md.bullets(material_line(m) for m in result["materials"]))
    before, after, saving = result["before"], result["after"], result["saving"]
    figures = (f"一次办：跑{after['visits']}次，交{after['materials']}份材料"
               f"（分别办：{before['working_days']}个工作日，跑{before['visits']}次，交{before['materials']}份）。")
    if saving["visits"] > 0 or saving["materials"] > 0 or saving["working_days"] > 0:
        figures += f"少跑{saving['visits']}次、少交{saving['materials']}份材料、少等{saving['working_days']}个工作日。"
    parts.append(figures)
    parts.append("办理时限：" + md.escape(result["time_limit"]["text"]) + "。")
    if result.get("finish"):
        parts.append(md.escape(result["finish"]["text"]) + "。")
    parts.append("办理渠道：" + "；".join(md.escape(c["name"]) for c in result["channels"]))
    pending = [md.escape(q["text"]) for q in result["questions"] if q["relevant"]]
    if pending:
        parts.append("回答这些问题可以让清单更准确：" + " ".join(pending))
    if result.get("next"):
        parts.append("办完这件事，很多人接着还要办：" + "；".join(md.escape(f"{n['name']}（{n['why']}）")
                                                   for n in result["next"]))
    parts.append(md.escape(result["basis"]["text"]) + "。")
    parts.append(md.escape(result["notice"]))
    return md.blocks(*parts)
