"""What a checklist rests on, said to the citizen: one basis line from the regions of its records, the
published promise (or the computed estimate, labelled so) and the expected finish date."""

from __future__ import annotations

import datetime as dt
from typing import Any

from . import workdays

Records = dict[str, dict[str, dict[str, Any]]]
RANK = {"成都": 0, "四川": 1, "国家": 2, "外省": 3, "推断": 4}
LOCAL = ("成都", "四川", "国家")  # sources that hold in Longquanyi
CITATION_FIELDS = ("id", "title", "issuer", "number", "date", "region", "province", "url", "repo_path")


def _citations(cat: Records, ids: list[str]) -> list[dict[str, Any]]:
    found = [cat["citations"][c] for c in dict.fromkeys(ids) if c in cat["citations"]]
    return [{k: c.get(k) for k in CITATION_FIELDS} for c in sorted(found, key=lambda c: RANK[c["region"]])]


def label(citation: dict[str, Any]) -> str:
    """《title》 with its number or year, as the basis line names it."""
    year = (citation.get("date") or "")[:4]
    detail = citation.get("number") or year
    return f"{citation['title']}" + (f"（{detail}）" if detail else "")


def basis(cat: Records, bundle: dict, item_ids: list[str], material_ids: list[str]) -> dict[str, Any]:
    """The regions of the records behind this checklist, its best citations and the one line citizens read."""
    records = [bundle] + [cat["items"][i] for i in item_ids] + [cat["materials"][m] for m in material_ids]
    regions: dict[str, int] = {}
    for record in records:
        regions[record["region"]] = regions.get(record["region"], 0) + 1
    local = sum(regions.get(r, 0) for r in LOCAL)
    cited = _citations(cat, bundle["cites"] + bundle["promise_cites"] + [c for i in item_ids for c in cat["items"][i]["cites"]])
    # the bundle's own local documents (they define which items it bundles); else local documents of its
    # items when most of its records are local
    own = [c for c in _citations(cat, bundle["cites"] + bundle["promise_cites"]) if c["region"] in LOCAL]
    named = (own or ([c for c in cited if c["region"] in LOCAL] if local * 2 >= len(records) else []))[:2]
    if named:
        text = "依据：" + "；".join(label(c) for c in named)
        if local < len(records):
            text += "；其余内容参考外省同类指南或一般规定整理，以窗口为准"
    elif regions.get("外省", 0) >= regions.get("推断", 0):
        text = "本清单参考外省同类指南整理，龙泉驿区具体要求以窗口为准"
    else:
        text = "本清单根据一般规定整理，尚未找到本地公布的办事指南，龙泉驿区具体要求以窗口为准"
    return {"text": text, "regions": dict(sorted(regions.items(), key=lambda kv: RANK[kv[0]])), "citations": cited}


def time_limit(cat: Records, bundle: dict, computed_days: int) -> dict[str, Any]:
    """The published promise where the bundle has one, else the computed figure labelled as an estimate."""
    if bundle["promise_days"] is None:
        return {"working_days": computed_days, "kind": "estimate", "note": None, "citations": [],
                "text": f"预计约{computed_days}个工作日办结（按各事项的时限推算，仅供参考）"}
    days, note = bundle["promise_days"], bundle["promise_note"]
    citations = _citations(cat, bundle["promise_cites"])
    extra = f"（{note}）" if note else ""
    if citations and citations[0]["region"] in LOCAL:
        text = f"承诺{days}个工作日内办结{extra}，依据：{label(citations[0])}"
    else:
        where = citations[0].get("province") if citations else None
        text = (f"{where or '外省'}同类“一件事”公布的承诺时限为{days}个工作日{extra}，本区具体时限以窗口告知为准")
    return {"working_days": days, "kind": "promise", "note": note, "citations": citations, "text": text}


def finish(working_days: int, today: dt.date) -> dict[str, Any]:
    """The expected finish date if submitted today, counted in Chinese working days."""
    result = workdays.finish(today, working_days)
    return {"date": result.date.isoformat(), "approximate": result.approximate, "text": result.text(today)}
