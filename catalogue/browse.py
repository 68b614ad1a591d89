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


def shop_kinds(cat: Records) -> list[str]:
    """The bundles a question about opening a shop of no named kind (开店, intent open_shop) is asked back among."""
    return [b["slug"] for b in bundle_list(cat, "企业开办", "行业准入")]


def taxonomy() -> dict[str, tuple[str, ...]]:
    """The families and stages a bundle can belong to."""
    return {"families": schema.FAMILIES, "personal_stages": schema.PERSONAL_STAGES,
            "enterprise_stages": schema.ENTERPRISE_STAGES}


def spot(cat: Records, text: str) -> list[str]:
    """Bundles whose name or alias appears word for word in text (already normalised), longest first.

    A phrase inside a longer phrase that was found counts once (开健身房 inside 我要开健身房).
    """
    phrases = sorted(((p, slug) for slug, b in cat["bundles"].items() for p in [b["name"], *b["aliases"]]
                      if len(p) >= 2), key=lambda pair: -len(pair[0]))
    found: list[str] = []
    taken = [False] * len(text)
    for phrase, slug in phrases:
        start = text.find(phrase)
        while start >= 0:
            if not any(taken[start:start + len(phrase)]):
                taken[start:start + len(phrase)] = [True] * len(phrase)
                if slug not in found:
                    found.append(slug)
            start = text.find(phrase, start + 1)
    return found
