"""Shared fixtures: temporary source folders and catalogues built from them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
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


@pytest.fixture(scope="session")
def rasa_side():
    """rasa_side(check, *arguments): run a check of tests/rasa_ext/rasa_side.py in a child process (pytest's own
    process never imports rasa, which loads TensorFlow); its JSON answer."""

    def run(check: str, *arguments: str):
        env = {**os.environ, "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "RASA_TELEMETRY_ENABLED": "false"}
        done = subprocess.run([sys.executable, "-m", "tests.rasa_ext.rasa_side", check, *arguments], check=False,
                              cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    return run


@pytest.fixture(scope="session")
def postgres_server():
    """A private PostgreSQL for the session (ops/services.py: Debian's package, a temporary folder, a free port)."""
    from ops import services

    server = services.start_postgres()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
def postgres_url(postgres_server, request) -> str:
    """A new, empty database of its own on the private PostgreSQL, as a URL."""
    import uuid

    import sqlalchemy as sa

    name = "t" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(f"postgresql://postgres@127.0.0.1:{postgres_server.port}/postgres",
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as db:
        db.exec_driver_sql(f"create database {name} owner {postgres_server.user}")
    admin.dispose()
    return f"postgresql://{postgres_server.user}@127.0.0.1:{postgres_server.port}/{name}"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A private Redis for the session (ops/services.py)."""
    from ops import services

    server = services.start_redis(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()


SLOW_FOLDERS = ("e2e", "rasa_ext")  # a real stack or browser, or Rasa in a child process


def pytest_collection_modifyitems(items):
    """Mark what needs a trained model, a running stack, a browser or Rasa itself as slow (`make test-fast`
    leaves it out)."""
    for item in items:
        folder = Path(str(item.fspath)).relative_to(PROJECT / "tests").parts[0]
        if folder in SLOW_FOLDERS or "rasa_side" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
