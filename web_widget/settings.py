"""The web app's configuration: every setting read from the environment, defaults here."""

from __future__ import annotations

import os

from catalogue import config as catalogue_config


def from_env() -> dict:
    """Flask config values from YISHI_* environment variables."""
    return {
        "CATALOGUE_DB": os.environ.get("YISHI_CATALOGUE_DB", str(catalogue_config.db_path())),
        "JSON_AS_ASCII": False,
    }
