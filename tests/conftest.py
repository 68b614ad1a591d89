"""Shared fixtures: temporary source folders and catalogues built from them."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
PROJECT = Path(__file__).parent.parent


@pytest.fixture
def mini_sources(tmp_path: Path) -> Path:
    """A copy of the tiny fixture catalogue that a test may change."""
    target = tmp_path / "sources"
    shutil.copytree(FIXTURES / "mini", target)
    return target


@pytest.fixture
def write_source():
    """Write a YAML file (dedented) into a sources folder."""

    def write(folder: Path, name: str, text: str) -> Path:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def mini_records(mini_sources: Path) -> dict:
    from catalogue.build import check

    result = check(mini_sources)
    assert result.errors == []
    return result.catalogue.records


@pytest.fixture
def mini_db(mini_sources: Path, tmp_path: Path, monkeypatch) -> Path:
    """The tiny catalogue built into a temporary SQLite file."""
    from catalogue.build import build

    monkeypatch.setenv("YISHI_CATALOGUE_DB", str(tmp_path / "mini.db"))
    path = tmp_path / "mini.db"
    result = build(mini_sources, path, tmp_path / "jieba")
    assert result.errors == []
    return path
