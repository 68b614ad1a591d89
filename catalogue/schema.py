"""The shape of each source record: fields, types, defaults and allowed values."""

from __future__ import annotations

import re

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")

FAMILIES = ("人生服务", "企业开办", "工程建设项目", "不动产登记")
PERSONAL_STAGES = ("婴幼儿", "少年", "青年", "中年", "老年")
ENTERPRISE_STAGES = ("创业起步", "行业准入", "日常运营", "发展融资", "遇到困难")
STAGES = PERSONAL_STAGES + ENTERPRISE_STAGES
CHANNEL_KINDS = ("offline", "online", "mail", "door_to_door", "hotline")
MATERIAL_KINDS = (
    "certificate", "form", "proof", "contract", "drawing", "rules", "photo", "report", "commitment", "other",
)
ISSUERS = ("applicant", "department", "system")
# Where a fact holds: a record's region is that of the best source it cites (成都 and 龙泉驿 first, then
# 四川, then national, then another province), or 推断 when no published source supports it.
CITED_REGIONS = ("成都", "四川", "国家", "外省")
REGIONS = CITED_REGIONS + ("推断",)
# how the text was read: on the issuer's site, as a repost, in a public repository, or the project's own copy
READ_VIA = ("official", "repost", "code", "project")

# field: (type, required, default). Types: str, text (optional str), int, bool, strs (list of str),
# date (a date or null), cond (a condition), list (checked by the validator), choice:<name>.
# Every record but a citation: a note in words on where it came from, whether a person checked it
# against a live guide (never filled from stored copies), its region and the citations behind it.
COMMON = {"source": ("str", True, None), "checked": ("date", True, None), "region": ("choice:REGIONS", True, None),
          "cites": ("strs", False, [])}

FIELDS: dict[str, dict[str, tuple]] = {
    "citations": {
        "id": ("id", True, None), "title": ("str", True, None), "issuer": ("text", False, None),
        "number": ("text", False, None), "date": ("text", False, None), "region": ("choice:CITED_REGIONS", True, None),
        "province": ("text", False, None), "url": ("text", False, None), "repo_path": ("text", False, None),
        "read_via": ("choice:READ_VIA", True, None), "checked": ("date", True, None),
    },
    "departments": {"id": ("id", True, None), "name": ("str", True, None), "short": ("text", False, None)},
    "channels": {
        "id": ("id", True, None), "name": ("str", True, None), "kind": ("choice:CHANNEL_KINDS", True, None),
        "address": ("text", False, None), "hours": ("text", False, None), "url": ("text", False, None),
        "note": ("text", False, None),
    },
    "mechanisms": {"id": ("id", True, None), "name": ("str", True, None), "description": ("str", True, None)},
    "materials": {
        "id": ("id", True, None), "name": ("str", True, None), "kind": ("choice:MATERIAL_KINDS", True, None),
        "issuer": ("choice:ISSUERS", True, None), "issued_by": ("text", False, None),
        "shared": ("bool", False, False), "note": ("text", False, None),
    },
    "questions": {
        "key": ("id", True, None), "text": ("str", True, None), "options": ("list", True, None),
        "ask_when": ("cond", False, {}),
    },
    "items": {
        "id": ("id", True, None), "name": ("str", True, None), "department": ("str", True, None),
        "working_days": ("int", True, None), "legal_days": ("int", False, None), "steps": ("int", True, None),
        "visits": ("int", False, 1), "requires": ("strs", False, []), "result": ("str", True, None),
        "result_material": ("text", False, None), "fee": ("text", False, None), "materials": ("list", True, None),
    },
    "bundles": {
        "slug": ("id", True, None), "name": ("str", True, None), "family": ("choice:FAMILIES", True, None),
        "stage": ("choice:STAGES", True, None), "summary": ("str", True, None),
        "lead_department": ("str", True, None), "steps": ("int", True, None), "step_names": ("strs", False, []),
        "online_full": ("bool", False, False), "merged_form": ("text", False, None), "items": ("list", True, None),
        "questions": ("strs", False, []), "channels": ("strs", True, None), "mechanisms": ("strs", False, []),
        "fee": ("text", False, None), "agent": ("text", False, None), "conditions": ("text", False, None),
        "aliases": ("strs", True, None),
        # for questions asked in English: the bundle's name and one-line summary (the checklist stays Chinese)
        "name_en": ("text", False, None), "summary_en": ("text", False, None),
        # a published promise for the whole bundle, in working days, what it leaves out, and its source
        "promise_days": ("int", False, None), "promise_note": ("text", False, None), "promise_cites": ("strs", False, []),
    },
    # what people usually need next after a bundle: offered as buttons, never answered in its own right
    "next_steps": {"id": ("id", True, None), "from": ("str", True, None), "to": ("str", True, None),
                   "why": ("str", True, None)},
    # a broad topic people name without saying which bundle (户口, 社保, 贷款): asked back among its bundles
    "topics": {"id": ("id", True, None), "words": ("strs", True, None), "bundles": ("strs", True, None)},
    # what a bundle does not cover though its words are near (二手车 beside 二手房): a question with one of `words` and
    # none of `unless` is neither answered nor asked back with that bundle
    "exclusions": {"id": ("id", True, None), "bundle": ("str", True, None), "words": ("strs", True, None),
                   "unless": ("strs", False, [])},
}

ITEM_MATERIAL_FIELDS = {
    "material": ("str", True, None), "originals": ("int", False, 1), "copies": ("int", False, 0),
    "when": ("cond", False, {}), "note": ("text", False, None), "hand_in": ("bool", False, False),
}
BUNDLE_ITEM_FIELDS = {"item": ("str", True, None), "when": ("cond", False, {})}
OPTION_FIELDS = {"value": ("str", True, None), "label": ("str", True, None)}
# kind → (the field holding a list of sub-records, their fields); a sub-record's first field names it
NESTED = {"items": ("materials", ITEM_MATERIAL_FIELDS), "bundles": ("items", BUNDLE_ITEM_FIELDS),
          "questions": ("options", OPTION_FIELDS)}

CHOICES = {
    "FAMILIES": FAMILIES, "STAGES": STAGES, "CHANNEL_KINDS": CHANNEL_KINDS,
    "MATERIAL_KINDS": MATERIAL_KINDS, "ISSUERS": ISSUERS, "REGIONS": REGIONS, "CITED_REGIONS": CITED_REGIONS,
    "READ_VIA": READ_VIA,
}


def fields_of(kind: str) -> dict[str, tuple]:
    """Every field of a record of this kind (a citation is a source itself: it carries no COMMON fields)."""
    return FIELDS[kind] if kind == "citations" else FIELDS[kind] | COMMON
