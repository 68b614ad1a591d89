"""Figures over the whole catalogue, and the plain-text form of a checklist."""

from __future__ import annotations

from typing import Any

from .checklist import Records, checklist

FIGURES = ("steps", "materials", "working_days")


def reduction(before: int, after: int) -> float:
    """The share saved, as a fraction (0 when there was nothing before)."""
    return (before - after) / before if before else 0.0


def stats(cat: Records) -> dict[str, Any]:
    """Bundle count and average per-bundle reductions, each bundle taken with no answers."""
    rows = []
    for slug in cat["bundles"]:
        result = checklist(cat, slug)
        rows.append({"slug": slug, "before": result["before"], "after": result["after"],
                     "reduction": {f: round(reduction(result["before"][f], result["after"][f]), 4) for f in FIGURES}})
    count = len(rows)
    average = {f: round(sum(r["reduction"][f] for r in rows) / count, 4) if count else 0.0 for f in FIGURES}
    families: dict[str, int] = {}
    for bundle in cat["bundles"].values():
        families[bundle["family"]] = families.get(bundle["family"], 0) + 1
    return {"bundles": count, "reduction": average, "families": families, "per_bundle": rows}


def material_line(material: dict) -> str:
    count = f"原件{material['originals']}份" if material["originals"] else ""
    if material["copies"]:
        count += f"{'、' if count else ''}复印件{material['copies']}份"
    marks = [count] if count else []
    if material["if_applicable"]:
        marks.append("如适用")
    if material["skip_reason"]:
        marks.append(material["skip_reason"])
    return f"  □ {material['name']}（{'；'.join(marks)}）"


def checklist_text(result: dict[str, Any]) -> str:
    """The checklist as plain Chinese text, for channels and terminals that show only text."""
    lines = [f"【{result['name']}】", result["summary"]]
    if not result["items"]:
        lines.append("按您的情况，这件事不需要另外办理审批事项。")
    else:
        lines.append("包含事项：")
        for item in result["items"]:
            mark = "（如适用）" if item["if_applicable"] else ""
            lines.append(f"  · {item['name']}{mark}——{item['department']['name']}")
        lines.append(f"需要准备的材料（{len(result['materials'])}份）：")
        lines += [material_line(m) for m in result["materials"]]
    before, after, saving = result["before"], result["after"], result["saving"]
    lines.append(f"一次办：{after['working_days']}个工作日，跑{after['visits']}次，交{after['materials']}份材料"
                 f"（分别办：{before['working_days']}个工作日，跑{before['visits']}次，交{before['materials']}份）。")
    if saving["visits"] > 0 or saving["materials"] > 0 or saving["working_days"] > 0:
        lines.append(f"少跑{saving['visits']}次、少交{saving['materials']}份材料、少等{saving['working_days']}个工作日。")
    lines.append("办理渠道：" + "；".join(c["name"] for c in result["channels"]))
    pending = [q["text"] for q in result["questions"] if q["relevant"]]
    if pending:
        lines.append("回答这些问题可以让清单更准确：" + " ".join(pending))
    lines.append(result["notice"])
    return "\n".join(lines)
