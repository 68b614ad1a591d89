"""The web app's configuration: every setting read from the environment, defaults here."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from catalogue import config as catalogue_config


def _secret_key(folder: Path) -> str:
    """YISHI_SECRET_KEY, or one generated once and kept in build/ so every worker signs alike."""
    if os.environ.get("YISHI_SECRET_KEY"):
        return os.environ["YISHI_SECRET_KEY"]
    path = folder / "secret_key"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}")
        tmp.write_text(secrets.token_hex(32), encoding="utf-8")
        tmp.chmod(0o600)
        os.replace(tmp, path)
    return path.read_text(encoding="utf-8").strip()


def from_env() -> dict:
    """Flask config values from YISHI_* environment variables."""
    build = catalogue_config.PROJECT_DIR / "build"
    env = os.environ.get
    return {
        "CATALOGUE_DB": env("YISHI_CATALOGUE_DB", str(catalogue_config.db_path())),
        # the staff console's content section: rebuilds go to a staging file first, then replace the live one
        "CATALOGUE_SOURCES": str(catalogue_config.sources_dir()),
        "CATALOGUE_STAGING_DB": env("YISHI_CATALOGUE_STAGING_DB",
                                    str(catalogue_config.db_path().with_name("catalogue.staging.db"))),
        "JIEBA_DICT_DIR": str(catalogue_config.dictionary_dir()),
        "RASA_DATA_DIR": str(catalogue_config.rasa_dir()),
        "RASA_DOMAIN": str(catalogue_config.domain_file()),
        "WEB_DB": env("YISHI_WEB_DB", str(build / "web.db")),
        "TRACKER_DB": env("YISHI_TRACKER_DB", str(build / "rasa.db")),  # read-only, for the console
        # labelled messages wait here, outside nlu_data/, until `yishi review merge`
        "REVIEW_FILE": env("YISHI_REVIEW_FILE", str(catalogue_config.PROJECT_DIR / "review" / "labelled.yml")),
        "LOW_CONFIDENCE": float(env("YISHI_LOW_CONFIDENCE", "0.6")),  # console flag; Rasa's own threshold is 0.5
        # Several Rasa servers may share the load; each conversation always goes to the same one.
        "RASA_URLS": [u.strip() for u in env("YISHI_RASA_URLS", env("YISHI_RASA_URL", "")).split(",") if u.strip()]
                     or [f"http://127.0.0.1:{env('YISHI_RASA_PORT', '5005')}"],
        "CHAT_TIMEOUT_S": float(env("YISHI_CHAT_TIMEOUT_S", "8")),
        "CHAT_MAX_CHARS": int(env("YISHI_CHAT_MAX_CHARS", "500")),
        "RATE_PER_SESSION": int(env("YISHI_RATE_PER_SESSION", "20")),  # messages a minute
        "RATE_PER_IP": int(env("YISHI_RATE_PER_IP", "300")),
        "SECRET_KEY": _secret_key(build),
        "RASA_JWT_SECRET": env("YISHI_RASA_JWT_SECRET", ""),
        "WIDGET_ORIGINS": [o.strip() for o in env("YISHI_WIDGET_ORIGINS", "").split(",") if o.strip()],
        "KIOSK_IDLE_S": int(env("YISHI_KIOSK_IDLE_S", "90")),
        "STAFF_IDLE_S": int(env("YISHI_STAFF_IDLE_MIN", "30")) * 60,
        "STAFF_MAX_S": int(env("YISHI_STAFF_MAX_HOURS", "12")) * 3600,
        "KIOSK_COUNTDOWN_S": int(env("YISHI_KIOSK_COUNTDOWN_S", "15")),
        "PERMANENT_SESSION_LIFETIME": int(env("YISHI_SESSION_HOURS", "24")) * 3600,
        "SESSION_COOKIE_HTTPONLY": True,
        # embedding on another site needs SameSite=None, which browsers accept only with Secure (HTTPS)
        "SESSION_COOKIE_SAMESITE": "None" if env("YISHI_WIDGET_ORIGINS") and env("YISHI_COOKIE_SECURE") == "1" else "Lax",
        "SESSION_COOKIE_SECURE": env("YISHI_COOKIE_SECURE", "0") == "1",
        # the console's quality page: where `make eval` and the conversation tests write, and what they run on
        "RESULTS_DIR": env("YISHI_RESULTS_DIR", str(catalogue_config.PROJECT_DIR / "results")),
        "MODEL_PATH": env("YISHI_MODEL", str(catalogue_config.PROJECT_DIR / "models" / "yishi.tar.gz")),
        "EVAL_CASES": env("YISHI_EVAL_CASES", str(catalogue_config.PROJECT_DIR / "tests" / "eval" / "heldout.yml")),
        "CONVERSATION_STORIES": env("YISHI_CONVERSATION_STORIES",
                                    str(catalogue_config.PROJECT_DIR / "tests" / "conversations")),
        "MAX_CONTENT_LENGTH": 16 * 1024,  # a chat message is at most 500 characters; refuse huge bodies unread
        "JSON_AS_ASCII": False,
    }
