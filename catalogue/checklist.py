"""The checklist: what one bundle needs, given the answers to its situational questions."""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from . import basis

NOTICE = "本清单仅供参考，以窗口最新要求为准。"
YES, NO, UNKNOWN = "yes", "no", "unknown"

Records = Mapping[str, Mapping[str, dict[str, Any]]]


class UnknownBundle(LookupError):
    """No bundle has this slug."""


class BadAnswer(ValueError):
    """An answer names a question the bundle does not ask, or an option the question does not offer."""


def condition_state(when: Mapping[str, list[str]], answers: Mapping[str, str]) -> str:
    """YES when every key matches, NO when an answered key does not, UNKNOWN when some are unanswered."""
    state = YES
    for key, values in when.items():
        if key not in answers:
            state = UNKNOWN
        elif answers[key] not in values:
            return NO
    return state


def bundle_questions(cat: Records, slug: str) -> list[str]:
    """The bundle's question keys: its listed order first, then any its conditions use."""
    bundle = cat["bundles"][slug]
    keys = list(bundle["questions"])
    for entry in bundle["items"]:
        used = list(entry["when"]) + [k for use in cat["items"][entry["item"]]["materials"] for k in use["when"]]
        keys += [k for k in used if k not in keys]
    for key in list(keys):
        keys += [k for k in cat["questions"][key]["ask_when"] if k not in keys]
    return keys


def check_answers(cat: Records, slug: str, answers: Mapping[str, str]) -> dict[str, str]:
    """The answers as plain strings, or BadAnswer naming the first wrong one."""
    if slug not in cat["bundles"]:
        raise UnknownBundle(slug)
    keys = bundle_questions(cat, slug)
    clean = {}
    for key, value in answers.items():
        if key not in keys:
            raise BadAnswer(f"“{cat['bundles'][slug]['name']}”没有“{key}”这个问题")
        options = {o["value"]: o["label"] for o in cat["questions"][key]["options"]}
        if str(value) not in options:
            raise BadAnswer(f"问题“{cat['questions'][key]['text']}”没有“{value}”这个选项，可选：{'、'.join(options.values())}")
        clean[key] = str(value)
    return clean


def checklist(cat: Records, slug: str, answers: Mapping[str, str] | None = None,
              today: dt.date | None = None) -> dict[str, Any]:
    """The combined, de-duplicated checklist of one bundle with its before/after figures; with today,
    also the date it is expected to be done if submitted today (in Chinese working days)."""
    answers = check_answers(cat, slug, answers or {})
    bundle = cat["bundles"][slug]
    items = _included_items(cat, bundle, answers)
    materials = _combined_materials(cat, bundle, items, answers)
    before, after = _figures(cat, bundle, items, answers, len(materials))
    limit = basis.time_limit(cat, bundle, after["working_days"])
    return {
        "slug": slug,
        "name": bundle["name"],
        "family": bundle["family"],
        "stage": bundle["stage"],
        "summary": bundle["summary"],
        "name_en": bundle["name_en"],
        "summary_en": bundle["summary_en"],
        "conditions": bundle["conditions"],
        "lead_department": _department(cat, bundle["lead_department"]),
        "questions": _questions(cat, slug, items, answers),
        "items": [_item_view(cat, item, conditional, items) for item, conditional in items.items()],
        "materials": materials,
        "departments": [_department(cat, d) for d in _departments(cat, items)],
        "channels": [_public(cat["channels"][c], CHANNEL_FIELDS) for c in bundle["channels"]],
        "mechanisms": [_public(cat["mechanisms"][m], MECHANISM_FIELDS) for m in bundle["mechanisms"]],
        "step_names": bundle["step_names"],
        "online_full": bundle["online_full"],
        "fee": bundle["fee"],
        "agent": bundle["agent"],
        "before": before,
        "after": after,
        "saving": {k: before[k] - after[k] for k in ("materials", "working_days", "visits", "steps")},
        "next": [{"bundle": step["to"], "name": cat["bundles"][step["to"]]["name"], "why": step["why"]}
                 for step in cat["next_steps"].values() if step["from"] == slug][:2],
        "time_limit": limit,
        "finish": basis.finish(limit["working_days"], today) if today else None,
        "basis": basis.basis(cat, bundle, list(items), [m["id"] for m in materials]),
        "sources": _sources(cat, bundle, items, materials),
        "checked": bundle["checked"],
        "notice": NOTICE,
    }


def _included_items(cat: Records, bundle: dict, answers: Mapping[str, str]) -> dict[str, bool]:
    """Item id → whether it is only 如适用 (its condition is not answered yet)."""
    included = {}
    for entry in bundle["items"]:
        state = condition_state(entry["when"], answers)
        if state != NO:
            included[entry["item"]] = state == UNKNOWN
    return included


def _combined_materials(cat: Records, bundle: dict, items: dict[str, bool], answers: Mapping[str, str]) -> list[dict]:
    merged_form = bundle["merged_form"]
    produced = {cat["items"][i]["result_material"]: i for i in items if cat["items"][i]["result_material"]}
    combined: dict[str, dict] = {}
    for item_id, item_conditional in items.items():
        for use in cat["items"][item_id]["materials"]:
            state = condition_state(use["when"], answers)
            if state == NO:
                continue
            material_id = use["material"]
            if merged_form and cat["materials"][material_id]["kind"] == "form":
                material_id = merged_form
            entry = combined.setdefault(material_id, _material_view(cat, material_id, produced, items))
            entry["originals"] = max(entry["originals"], use["originals"])
            entry["copies"] = max(entry["copies"], use["copies"])
            if item_id not in entry["items"]:
                entry["items"].append(item_id)
            entry["if_applicable"] = entry["if_applicable"] and (item_conditional or state == UNKNOWN)
            if use["note"] and use["note"] not in entry["notes"]:
                entry["notes"].append(use["note"])
            if use["hand_in"]:  # this item keeps the paper original, data sharing or not
                entry["skip"], entry["skip_reason"] = None, None
    return list(combined.values())


def _material_view(cat: Records, material_id: str, produced: dict[str, str], items: dict[str, bool]) -> dict:
    material = cat["materials"][material_id]
    skip, reason = None, None
    if material_id in produced:
        skip, reason = "bundle_result", f"由本件事中的“{cat['items'][produced[material_id]]['name']}”办结后直接共享，无需另交"
    elif material["issuer"] == "system":
        skip, reason = "system", "系统自动生成，签字确认即可"
    elif material["issuer"] == "department" and material["shared"]:
        skip, reason = "shared", "部门间数据共享调取电子证照，可免交纸质件"
    issued_by = material["issued_by"]
    return {
        "id": material_id,
        "name": material["name"],
        "kind": material["kind"],
        "issuer": material["issuer"],
        "issued_by": cat["departments"][issued_by]["name"] if issued_by else None,
        "originals": 0,
        "copies": 0,
        "items": [],
        "if_applicable": True,
        "skip": skip,
        "skip_reason": reason,
        "note": material["note"],
        "notes": [],
    }


def _figures(cat: Records, bundle: dict, items: dict[str, bool], answers: Mapping[str, str],
             combined_count: int) -> tuple[dict, dict]:
    """Before: every item done on its own. After: the bundle, approved in parallel."""
    records = [cat["items"][i] for i in items]
    visits_by_department: dict[str, int] = {}
    for item in records:
        visits_by_department[item["department"]] = visits_by_department.get(item["department"], 0) + item["visits"]
    departments = len(visits_by_department)
    before = {
        "materials": sum(condition_state(use["when"], answers) != NO for item in records for use in item["materials"]),
        "working_days": sum(item["working_days"] for item in records),
        "departments": departments,
        "visits": sum(max(1, visits) for visits in visits_by_department.values()),
        "steps": sum(item["steps"] for item in records),
    }
    after = {
        "materials": combined_count,
        "working_days": longest_chain(cat, list(items)),
        "departments": departments,
        "visits": 0 if bundle["online_full"] or not items else 1,
        "steps": bundle["steps"] if items else 0,
    }
    return before, after


def longest_chain(cat: Records, item_ids: list[str]) -> int:
    """Working days along the longest chain of prerequisites among these items."""
    included = set(item_ids)
    finish: dict[str, int] = {}

    def finish_day(item_id: str) -> int:
        if item_id not in finish:
            item = cat["items"][item_id]
            start = max((finish_day(r) for r in item["requires"] if r in included), default=0)
            finish[item_id] = start + item["working_days"]
        return finish[item_id]

    return max((finish_day(i) for i in item_ids), default=0)


def _departments(cat: Records, items: Mapping[str, bool]) -> list[str]:
    return list(dict.fromkeys(cat["items"][i]["department"] for i in items))


def _department(cat: Records, department_id: str) -> dict:
    department = cat["departments"][department_id]
    return {"id": department_id, "name": department["name"], "short": department["short"]}


CHANNEL_FIELDS = ("id", "name", "kind", "address", "hours", "url", "note")
MECHANISM_FIELDS = ("id", "name", "description")


def _public(record: dict, fields: tuple[str, ...]) -> dict:
    """What a citizen sees of a record; provenance stays in the top-level `sources`."""
    return {k: record[k] for k in fields}


def _item_view(cat: Records, item_id: str, conditional: bool, items: Mapping[str, bool]) -> dict:
    item = cat["items"][item_id]
    return {
        "id": item_id,
        "name": item["name"],
        "department": _department(cat, item["department"]),
        "working_days": item["working_days"],
        "legal_days": item["legal_days"],
        "steps": item["steps"],
        "requires": [r for r in item["requires"] if r in items],
        "result": item["result"],
        "fee": item["fee"],
        "if_applicable": conditional,
    }


def _questions(cat: Records, slug: str, items: Mapping[str, bool], answers: Mapping[str, str]) -> list[dict]:
    """Every question of the bundle, its answer, and whether asking it can still change the list."""
    bundle = cat["bundles"][slug]
    live: set[str] = set()
    for entry in bundle["items"]:
        if condition_state(entry["when"], answers) != NO:
            live.update(entry["when"])
    for item_id in items:
        for use in cat["items"][item_id]["materials"]:
            live.update(use["when"])
    views = []
    for key in bundle_questions(cat, slug):
        question = cat["questions"][key]
        askable = condition_state(question["ask_when"], answers) == YES
        views.append({
            "key": key,
            "text": question["text"],
            "options": [{"value": o["value"], "label": o["label"]} for o in question["options"]],
            "answer": answers.get(key),
            "relevant": key in live and askable and key not in answers,
        })
    return views


def _sources(cat: Records, bundle: dict, items: Mapping[str, bool], materials: list[dict]) -> list[str]:
    """Where the bundle, its items and its materials come from (each source once)."""
    found = [bundle["source"]]
    found += [cat["items"][i]["source"] for i in items]
    found += [cat["materials"][m["id"]]["source"] for m in materials]
    return list(dict.fromkeys(found))
