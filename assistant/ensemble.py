"""The mean of several classifiers' intent rankings (rasa_ext/ensemble.py: two DIETs, each its own seed)."""

from __future__ import annotations

from typing import Any, Mapping, Sequence


def mean_ranking(before: Sequence[Mapping[str, Any]], members: int, own: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The mean of `members` members' rankings (`before`, already their mean) and one more member's (`own`); an intent
    missing from a ranking counts 0 there. Highest first, ties by name."""
    total: dict[str, float] = {}
    for entry in before:
        total[entry["name"]] = total.get(entry["name"], 0.0) + members * float(entry["confidence"])
    for entry in own:
        total[entry["name"]] = total.get(entry["name"], 0.0) + float(entry["confidence"])
    ranked = sorted(total.items(), key=lambda pair: (-pair[1], pair[0]))
    return [{"name": name, "confidence": value / (members + 1)} for name, value in ranked]
