"""Browsing the catalogue by family and life stage."""

from __future__ import annotations

from typing import Any

from . import schema
from .checklist import Records


def bundle_list(cat: Records, family: str | None = None, stage: str | None = None) -> list[dict[str, Any]]:
    """Bundles in catalogue order, optionally only one family and/or one stage."""
    return [
        {"slug": slug, "name": b["name"], "family": b["family"], "stage": b["stage"], "summary": b["summary"]}
        for slug, b in cat["bundles"].items()
        if (family is None or b["family"] == family) and (stage is None or b["stage"] == stage)
    ]


def taxonomy() -> dict[str, tuple[str, ...]]:
    """The families and stages a bundle can belong to."""
    return {"families": schema.FAMILIES, "personal_stages": schema.PERSONAL_STAGES,
            "enterprise_stages": schema.ENTERPRISE_STAGES}
