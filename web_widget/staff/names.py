"""Bundle names as staff read them, from the live catalogue."""

from __future__ import annotations

from flask import current_app

from assistant.intents import OUT_OF_SCOPE, slug_of


def bundle_names() -> dict[str, str]:
    """slug → name of every bundle in the live catalogue ({} before the first build)."""
    try:
        records = current_app.extensions["catalogue"].records()
    except FileNotFoundError:
        return {}
    return {slug: bundle["name"] for slug, bundle in records["bundles"].items()}


def describe(intent: str | None, names: dict[str, str]) -> str:
    """An intent as staff read it: the bundle's name, 不属于任何一件事, or the intent itself."""
    if intent == OUT_OF_SCOPE:
        return "不属于任何一件事"
    slug = slug_of(intent)
    return names.get(slug, slug) if slug else (intent or "")
