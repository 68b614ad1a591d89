"""Yishi's web app: the citizen surfaces (JSON API, chat, pages, widget, kiosk) and the staff console
(web_widget.staff, under /staff). YISHI_SERVE chooses which surfaces one app serves."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, jsonify
from werkzeug.middleware.proxy_fix import ProxyFix

from catalogue import config as catalogue_config
from catalogue.live import LiveCatalogue
from yishi import settings

from .links import absolute

SURFACES = ("citizen", "staff")


def config_from_settings() -> dict[str, Any]:
    """Flask config values from yishi.settings (no side effects)."""
    return {
        "SERVE": settings.listing("YISHI_SERVE"),
        "PUBLIC_URL": settings.public_url(),
        "CATALOGUE_DB": str(catalogue_config.db_path()),
        # the staff console's content section: rebuilds go to a staging file first, then replace the live one
        "CATALOGUE_SOURCES": str(catalogue_config.sources_dir()),
        "CATALOGUE_STAGING_DB": str(settings.path("YISHI_CATALOGUE_STAGING_DB")),
        "JIEBA_DICT_DIR": str(catalogue_config.dictionary_dir()),
        "RASA_DATA_DIR": str(settings.path("YISHI_RASA_DATA_DIR")),
        "RASA_DOMAIN": str(settings.home() / "bot" / "domain.yml"),
        "BOT_CONFIG": str(settings.path("YISHI_BOT_CONFIG")),
        "WEB_DB": settings.web_store(),  # a SQLite path, or the city profile's database URL
        "TRACKER_DB": settings.tracker_store(),  # read-only, for the console
        "REDIS_URL": settings.text("YISHI_REDIS_URL"),  # the city profile: rate limits and staff sessions
        "REDIS_PASSWORD": settings.text("YISHI_REDIS_PASSWORD"),
        "REVIEW_FILE": str(settings.path("YISHI_REVIEW_FILE")),
        "LOW_CONFIDENCE": settings.number("YISHI_LOW_CONFIDENCE"),
        "DEMAND_CACHE_S": settings.number("YISHI_DEMAND_CACHE_S"),
        "RASA_URLS": settings.rasa_urls(),
        "CHAT_TIMEOUT_S": settings.number("YISHI_CHAT_TIMEOUT_S"),
        "RASA_IN_FLIGHT": settings.integer("YISHI_RASA_IN_FLIGHT"),
        "CHAT_MAX_CHARS": settings.integer("YISHI_CHAT_MAX_CHARS"),
        "RATE_PER_SESSION": settings.integer("YISHI_RATE_PER_SESSION"),
        "RATE_PER_IP": settings.integer("YISHI_RATE_PER_IP"),
        "SECRET_KEY": settings.text("YISHI_SECRET_KEY"),
        "SECRET_KEY_FILE": str(settings.path("YISHI_SECRET_KEY_FILE")),
        "RASA_JWT_SECRET": settings.text("YISHI_RASA_JWT_SECRET"),
        "WIDGET_ORIGINS": settings.widget_origins(),
        "KIOSK_IDLE_S": settings.integer("YISHI_KIOSK_IDLE_S"),
        "KIOSK_COUNTDOWN_S": settings.integer("YISHI_KIOSK_COUNTDOWN_S"),
        "STAFF_IDLE_S": settings.integer("YISHI_STAFF_IDLE_MIN") * 60,
        "STAFF_MAX_S": settings.integer("YISHI_STAFF_MAX_HOURS") * 3600,
        "PERMANENT_SESSION_LIFETIME": settings.integer("YISHI_SESSION_HOURS") * 3600,
        "SESSION_COOKIE_HTTPONLY": True,
        # embedding on another site needs SameSite=None, which browsers accept only with Secure (HTTPS)
        "SESSION_COOKIE_SAMESITE": "None" if settings.listing("YISHI_WIDGET_ORIGINS")
                                   and settings.flag("YISHI_COOKIE_SECURE") else "Lax",
        "SESSION_COOKIE_SECURE": settings.flag("YISHI_COOKIE_SECURE"),
        "PROXIES": settings.integer("YISHI_PROXIES"),  # behind nginx: the client's address from X-Forwarded-For
        # the console's quality page: where `make eval` and the conversation tests write, and what they run on
        "RESULTS_DIR": str(settings.path("YISHI_RESULTS_DIR")),
        "MODEL_PATH": str(settings.path("YISHI_MODEL")),
        "EVAL_CASES": str(settings.path("YISHI_EVAL_CASES")),
        "CONVERSATION_STORIES": str(settings.path("YISHI_CONVERSATION_STORIES")),
        "NLU_DATA": str(settings.path("YISHI_NLU_DATA")),
        "MAX_CONTENT_LENGTH": 16 * 1024,  # a chat message is at most 500 characters; refuse huge bodies unread
    }


def _secret_key(path: Path) -> str:
    """The key kept in path, made once (so every gunicorn worker signs alike)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}")
        tmp.write_text(secrets.token_hex(32), encoding="utf-8")
        tmp.chmod(0o600)
        os.replace(tmp, path)
    return path.read_text(encoding="utf-8").strip()


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The only place the app is made: config from yishi.settings, or test_config in tests."""
    app = Flask(__name__)
    app.config.from_mapping(config_from_settings())
    if test_config:
        app.config.from_mapping(test_config)
    unknown = set(app.config["SERVE"]) - set(SURFACES)
    if unknown or not app.config["SERVE"]:
        raise ValueError(f"YISHI_SERVE: {','.join(sorted(unknown)) or 'empty'}; choose from {','.join(SURFACES)}")
    if app.config.get("TRUSTED_HOSTS") is None:  # Host headers for anything else are refused (400)
        app.config["TRUSTED_HOSTS"] = [urlsplit(app.config["PUBLIC_URL"]).hostname, "localhost", "127.0.0.1"]
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _secret_key(Path(app.config["SECRET_KEY_FILE"]))
    app.json.ensure_ascii = False
    if app.config.get("PROXIES"):  # request.remote_addr: the client's, as the trusted proxies say, not theirs
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=int(app.config["PROXIES"]))  # type: ignore[method-assign]
    app.extensions["catalogue"] = LiveCatalogue(Path(app.config["CATALOGUE_DB"]))

    from . import api, chat, pages, security, store

    if "citizen" in app.config["SERVE"]:
        app.register_blueprint(api.bp)
        app.register_blueprint(chat.bp)
        app.register_blueprint(pages.bp)
    if "staff" in app.config["SERVE"]:
        from .staff import bp as staff

        app.register_blueprint(staff)
    store.init_app(app)
    security.init_app(app)

    @app.context_processor
    def public_address() -> dict[str, Any]:
        return {"absolute": absolute}

    @app.get("/healthz")
    def healthz():
        try:
            meta = app.extensions["catalogue"].meta()
        except FileNotFoundError:
            return jsonify(status="degraded", catalogue=None), 503
        return jsonify(status="ok", catalogue=meta)

    return app
