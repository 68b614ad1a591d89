"""`pip install .` (not editable) into a fresh virtual environment gives a working `yishi` command and app
factory against a data directory outside the checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]

APP_CHECK = """
import web_widget, catalogue, assistant, yishi
for package in (web_widget, catalogue, assistant, yishi):
    assert "{project}" not in package.__file__, package.__file__
from web_widget import create_app
client = create_app().test_client()
print(" ".join(str(client.get(path).status_code) for path in
      ("/healthz", "/checklist/gym", "/static/yishi-widget.js", "/staff/login", "/staff/static/staff.css", "/staff/")))
"""


@pytest.mark.slow
def test_a_plain_install_works_against_a_data_directory(tmp_path):
    wheel_dir, venv, data = tmp_path / "wheel", tmp_path / "venv", tmp_path / "data"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheel_dir),
                    str(PROJECT)], check=True, capture_output=True, cwd=tmp_path)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    # the dependencies (Rasa, Flask, …) from the project's environment, after the new environment's own packages
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-deps", "--ignore-installed",
                    *map(str, wheel_dir.glob("yishi-*.whl"))], check=True, capture_output=True, cwd=tmp_path)
    shutil.copytree(PROJECT / "bot", data / "bot")  # the data directory holds the bot's own files
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "YISHI_HOME": str(data), "HOME": str(tmp_path),
           "PYTHONNOUSERSITE": "1", "LANG": os.environ.get("LANG", "C.UTF-8")}

    def run(*command: str, stdin: str | None = None) -> str:
        done = subprocess.run(command, cwd=tmp_path, env=env, input=stdin, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    assert "built 53 bundles" in run("yishi", "catalogue", "build")
    assert (data / "build" / "catalogue.db").exists() and (data / "build" / "rasa" / "data" / "bundles.yml").exists()
    assert "开健身房" in run("yishi", "catalogue", "show", "gym")
    assert "created" in run("yishi", "staff", "add", "an.ping", "--role", "管理员", "--password-stdin",
                                     stdin="a long enough password\n")
    assert run("python", "-c", APP_CHECK.format(project=PROJECT)).split() == ["200", "200", "200", "200", "200", "302"]
