"""Absolute links for citizens (QR codes, embedding snippets): always the configured public address
(YISHI_PUBLIC_URL), never the request's Host header, which a cache or proxy may pass on from anyone."""

from __future__ import annotations

from flask import current_app


def absolute(path: str) -> str:
    """The public address followed by path (a path from url_for)."""
    return current_app.config["PUBLIC_URL"] + path
