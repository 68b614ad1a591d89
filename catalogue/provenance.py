"""Why a checklist looks the way it does: which items, which answers switched what, where each fact comes from.

The staff console's test bench shows this next to the reply. It walks the same conditions as
checklist.py (condition_state) so it can never disagree with what citizens get.
"""

from __future__ import annotations

from typing import Any, Mapping

from .checklist import NO, UNKNOWN, Records, check_answers, checklist, condition_state

STATES = {"yes": "包含", "unknown": "如适用（问题未回答）", "no": "不包含"}


def _condition(cat: Records, when: Mapping[str, list[str]], answers: Mapping[str, str]) -> list[dict[str, Any]]:
    """Each clause of a condition in words: the question, the options that satisfy it, the answer given."""
    clauses = []
    for key, values in when.items():
        question = cat["questions"][key]
        labels = {o["value"]: o["label"] for o in question["options"]}
        answer = answers.get(key)
        clauses.append({
            "question": key,
            "text": question["text"],
            "needs": [labels.get(v, v) for v in values],
            "answer": labels.get(answer, answer) if answer is not None else None,
            "met": None if answer is None else answer in values,
        })
    return clauses


def _fact(record: Mapping[str, Any]) -> dict[str, Any]:
    return {"source": record["source"], "checked": record["checked"]}


def provenance(cat: Records, slug: str, answers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The bundle's items (in or out, and why), its materials (from which items, under which answers),
    and each record's `source` and `checked`."""
    answers = check_answers(cat, slug, answers or {})
    bundle = cat["bundles"][slug]
    shown = checklist(cat, slug, answers)
    kept = {m["id"]: m for m in shown["materials"]}
    merged_form = bundle["merged_form"]

    items, materials = [], {}
    for entry in bundle["items"]:
        item = cat["items"][entry["item"]]
        state = condition_state(entry["when"], answers)
        items.append({"id": entry["item"], "name": item["name"], "state": state, "state_label": STATES[state],
                      "when": _condition(cat, entry["when"], answers),
                      "department": cat["departments"][item["department"]]["name"], **_fact(item)})
        for use in item["materials"]:
            material_id = use["material"]
            shown_as = merged_form if merged_form and cat["materials"][material_id]["kind"] == "form" else material_id
            use_state = NO if state == NO else condition_state(use["when"], answers)
            if state == UNKNOWN and use_state != NO:
                use_state = UNKNOWN  # needed only if the item turns out to apply
            record = materials.setdefault(material_id, {
                "id": material_id, "name": cat["materials"][material_id]["name"], "shown_as": shown_as,
                "in_checklist": shown_as in kept, **_fact(cat["materials"][material_id]), "uses": []})
            record["uses"].append({"item": entry["item"], "item_name": item["name"], "state": use_state,
                                   "state_label": STATES[use_state], "when": _condition(cat, use["when"], answers),
                                   "originals": use["originals"], "copies": use["copies"], "hand_in": use["hand_in"]})
    for material in materials.values():
        view = kept.get(material["shown_as"])
        material["skip_reason"] = view["skip_reason"] if view else None
        if material["shown_as"] != material["id"]:
            material["merged_into"] = cat["materials"][material["shown_as"]]["name"]

    questions = [{"key": q["key"], "text": q["text"], "answer": q["answer"], "relevant": q["relevant"],
                  "switches": _switches(cat, slug, q["key"])} for q in shown["questions"]]
    return {
        "bundle": {"slug": slug, "name": bundle["name"], **_fact(bundle)},
        "answers": dict(answers),
        "questions": questions,
        "items": items,
        "materials": list(materials.values()),
        "unchecked": sum(1 for r in [bundle, *items, *materials.values()] if not r["checked"]),
    }


def _switches(cat: Records, slug: str, key: str) -> list[str]:
    """Names of the items and materials whose condition mentions this question."""
    names = []
    for entry in cat["bundles"][slug]["items"]:
        item = cat["items"][entry["item"]]
        if key in entry["when"]:
            names.append(item["name"])
        names += [cat["materials"][u["material"]]["name"] for u in item["materials"] if key in u["when"]]
    return list(dict.fromkeys(names))
