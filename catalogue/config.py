"""Where the catalogue's sources and built files live (overridable from the environment)."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent


def sources_dir() -> Path:
    """The folder of YAML sources."""
    return Path(os.environ.get("YISHI_CATALOGUE_SOURCES", PACKAGE_DIR / "sources"))


def db_path() -> Path:
    """The built SQLite catalogue."""
    return Path(os.environ.get("YISHI_CATALOGUE_DB", PROJECT_DIR / "build" / "catalogue.db"))


def dictionary_dir() -> Path:
    """The folder of jieba dictionaries generated from the catalogue (Rasa's JiebaTokenizer reads it)."""
    return Path(os.environ.get("YISHI_JIEBA_DICT_DIR", PROJECT_DIR / "build" / "jieba"))


def cache_dir() -> Path:
    """Where derived caches (jieba's prefix dictionary) are kept."""
    return Path(os.environ.get("YISHI_CACHE_DIR", PROJECT_DIR / "build" / "cache"))


def rasa_dir() -> Path:
    """Rasa training data and domain generated from the catalogue (with a copy of bot/domain.yml)."""
    return Path(os.environ.get("YISHI_RASA_DATA_DIR", PROJECT_DIR / "build" / "rasa"))


def domain_file() -> Path:
    """The hand-written Rasa domain."""
    return PROJECT_DIR / "bot" / "domain.yml"
