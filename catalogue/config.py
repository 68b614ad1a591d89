"""Where the catalogue's sources and built files live (settings in yishi.settings)."""

from __future__ import annotations

from pathlib import Path

from yishi import settings

PACKAGE_DIR = Path(__file__).resolve().parent


def sources_dir() -> Path:
    """The folder of YAML sources: YISHI_CATALOGUE_SOURCES, else the sources shipped in this package."""
    return settings.path("YISHI_CATALOGUE_SOURCES") if settings.text("YISHI_CATALOGUE_SOURCES") \
        else PACKAGE_DIR / "sources"


def db_path() -> Path:
    """The built SQLite catalogue."""
    return settings.path("YISHI_CATALOGUE_DB")


def dictionary_dir() -> Path:
    """The folder of jieba dictionaries generated from the catalogue (Rasa's JiebaTokenizer reads it)."""
    return settings.path("YISHI_JIEBA_DICT_DIR")


def cache_dir() -> Path:
    """Where derived caches (jieba's prefix dictionary) are kept."""
    return settings.path("YISHI_CACHE_DIR")


def golden_dir() -> Path:
    """The committed golden answers (tests/golden in the data directory)."""
    return settings.home() / "tests" / "golden"
