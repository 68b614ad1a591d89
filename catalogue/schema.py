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

# field: (type, required, default). Types: str, text (optional str), int, bool, strs (list of str),
# date (a date or null), cond (a condition), list (checked by the validator), choice:<name>.
COMMON = {"source": ("str", True, None), "checked": ("date", True, None)}

FIELDS: dict[str, dict[str, tuple]] = {
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
    },
}

ITEM_MATERIAL_FIELDS = {
    "material": ("str", True, None), "originals": ("int", False, 1), "copies": ("int", False, 0),
    "when": ("cond", False, {}), "note": ("text", False, None), "hand_in": ("bool", False, False),
}
BUNDLE_ITEM_FIELDS = {"item": ("str", True, None), "when": ("cond", False, {})}
OPTION_FIELDS = {"value": ("str", True, None), "label": ("str", True, None)}

CHOICES = {
    "FAMILIES": FAMILIES, "STAGES": STAGES, "CHANNEL_KINDS": CHANNEL_KINDS,
    "MATERIAL_KINDS": MATERIAL_KINDS, "ISSUERS": ISSUERS,
}
