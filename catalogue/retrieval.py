"""Lexical support: which bundles a text shares words with, over bundle names, aliases, item names and
material names (jieba with the catalogue's own words), each word weighted by how few bundles use it.

The classifier ranks bundles by what it learned; this says which of them the citizen's own words
point at, so that a bundle is never offered back without some support from the text.
"""

from __future__ import annotations

import math
import re
from typing import Any

from . import db, tokens

Records = dict[str, dict[str, dict[str, Any]]]
GENERIC_SHARE = 0.3  # a word in more than this share of bundles (申请, 证明, 登记) supports none of them
_cache: dict[int, tuple[Records, tuple[str, ...], dict[str, dict[str, float]]]] = {}


def _texts(records: Records, slug: str) -> list[str]:
    bundle = records["bundles"][slug]
    items = [records["items"][entry["item"]] for entry in bundle["items"]]
    materials = [records["materials"][use["material"]]["name"] for item in items for use in item["materials"]]
    return [bundle["name"], *bundle["aliases"], *(item["name"] for item in items), *materials]


def index(records: Records) -> tuple[tuple[str, ...], dict[str, dict[str, float]]]:
    """(the catalogue's words, word → {slug: weight}); built once per catalogue load."""
    cached = _cache.get(id(records))
    if cached and cached[0] is records:
        return cached[1], cached[2]
    words = tokens.vocabulary_key(db.vocabulary(records))
    bundles_of: dict[str, set[str]] = {}
    for slug in records["bundles"]:
        for text in _texts(records, slug):
            for token in tokens.tokenize(text.lower(), words):
                if len(token) >= 2 or not token.isascii():
                    bundles_of.setdefault(token, set()).add(slug)
    total = len(records["bundles"]) or 1
    weights = {token: {slug: math.log(total / len(slugs)) for slug in slugs}
               for token, slugs in bundles_of.items() if len(slugs) <= max(1.0, GENERIC_SHARE * total) and len(token) >= 2}
    _cache.clear()
    _cache[id(records)] = (records, words, weights)
    return words, weights


def support(records: Records, text: str) -> dict[str, float] | None:
    """slug → how strongly the text's own words point at that bundle (absent: no support), best first;
    None when the text has no Chinese word the catalogue could know (English, digits): no signal."""
    if not re.search(r"[\u3400-\u9fff]", text):
        return None
    words, weights = index(records)
    found: dict[str, float] = {}
    for token in tokens.tokenize(text[:500].lower(), words):
        for slug, weight in weights.get(token, {}).items():
            found[slug] = found.get(slug, 0.0) + weight
    return dict(sorted(found.items(), key=lambda kv: -kv[1]))
