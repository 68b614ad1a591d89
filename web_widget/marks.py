"""A mark on a view that answers JSON: without a staff session it gets 401 JSON instead of a redirect to the
login, and its errors are JSON rather than a page."""

from __future__ import annotations

from typing import Any, Callable


def json_api(view: Callable[..., Any]) -> Callable[..., Any]:
    view.json_api = True  # type: ignore[attr-defined]
    return view


def is_json_api(view: Callable[..., Any] | None) -> bool:
    return getattr(view, "json_api", False)
