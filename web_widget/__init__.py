"""Yishi's web surfaces: the JSON API now; the chat widget, kiosk and staff console build on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, jsonify

from catalogue.live import LiveCatalogue

from . import settings


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The only place the app is made: config from the environment, or test_config in tests."""
    app = Flask(__name__)
    app.config.from_mapping(settings.from_env())
    if test_config:
        app.config.from_mapping(test_config)
    app.json.ensure_ascii = False
    app.extensions["catalogue"] = LiveCatalogue(Path(app.config["CATALOGUE_DB"]))

    from . import (api, chat, pages, security, staff_auth, staff_bench, staff_content, staff_demand, staff_quality,
                   staff_review, store)

    app.register_blueprint(api.bp)
    app.register_blueprint(chat.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(staff_auth.bp)
    app.register_blueprint(staff_bench.bp)
    app.register_blueprint(staff_quality.bp)
    app.register_blueprint(staff_review.bp)
    app.register_blueprint(staff_demand.bp)
    app.register_blueprint(staff_content.bp)
    store.init_app(app)
    security.init_app(app)

    @app.get("/healthz")
    def healthz():
        try:
            meta = app.extensions["catalogue"].meta()
        except FileNotFoundError:
            return jsonify(status="degraded", catalogue=None), 503
        return jsonify(status="ok", catalogue=meta)

    return app
