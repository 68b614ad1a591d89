"""Packages from the npm registry for the browser tests (rasa-webchat), installed once into build/cache/npm."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from yishi import settings


def install(name: str, version: str) -> Path:
    """The folder of npm package name@version, installed from the registry when it is not there yet."""
    prefix = settings.path("YISHI_CACHE_DIR") / "npm"
    folder = prefix / "node_modules" / name
    manifest = folder / "package.json"
    if manifest.exists() and json.loads(manifest.read_text())["version"] == version:
        return folder
    npm = shutil.which("npm")
    if npm is None:  # never skip silently: scripts/install-browser.sh installs it
        raise RuntimeError("npm is missing: apt-get install npm (make browser does)")
    prefix.mkdir(parents=True, exist_ok=True)
    subprocess.run([npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--no-save",
                    "--ignore-scripts", f"{name}@{version}"], check=True, capture_output=True, timeout=600)
    return folder
