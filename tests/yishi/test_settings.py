"""One settings module: every variable with its default and meaning; the docs agree; reading changes nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from yishi import settings

PROJECT = Path(__file__).resolve().parents[2]
CODE = ("assistant", "actions", "catalogue", "chattext", "rasa_ext", "web_widget", "yishi", "scripts", "bench")


def test_env_example_lists_every_setting_with_its_default():
    found = dict(re.findall(r"^(YISHI_\w+)=(.*)$", (PROJECT / ".env.example").read_text(encoding="utf-8"), re.M))
    assert found == {s.name: s.default for s in settings.SETTINGS}


def test_the_readme_table_names_every_setting():
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Configuration"):]
    named = set(re.findall(r"`(YISHI_\w+)`", table))
    assert named == {s.name for s in settings.SETTINGS} | set(settings.ALIASES)


def test_every_variable_the_code_reads_is_in_the_table():
    used = set()
    for folder in CODE:
        for path in (PROJECT / folder).rglob("*"):
            if path.suffix in (".py", ".sh") and path.is_file():
                used |= set(re.findall(r"\b(YISHI_[A-Z0-9_]+)\b", path.read_text(encoding="utf-8")))
    used |= set(re.findall(r"\b(YISHI_[A-Z0-9_]+)\b", (PROJECT / "bot" / "endpoints.yml").read_text(encoding="utf-8")))
    assert used <= {s.name for s in settings.SETTINGS} | set(settings.ALIASES)


def test_defaults_relative_paths_and_aliases(monkeypatch, tmp_path):
    for setting in settings.SETTINGS:
        monkeypatch.delenv(setting.name, raising=False)
    monkeypatch.setenv("YISHI_HOME", str(tmp_path))
    assert settings.path("YISHI_WEB_DB") == tmp_path / "build" / "web.db"
    assert settings.rasa_urls() == ["http://127.0.0.1:5005", "http://127.0.0.1:5006"]
    monkeypatch.setenv("YISHI_RASA_URL", "http://127.0.0.1:7000")  # the old name still works
    assert settings.rasa_urls() == ["http://127.0.0.1:7000"]
    monkeypatch.setenv("YISHI_WEB_DB", "/srv/yishi/web.db")
    assert settings.path("YISHI_WEB_DB") == Path("/srv/yishi/web.db")


def test_reading_every_setting_writes_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("YISHI_HOME", str(tmp_path))
    for setting in settings.SETTINGS:
        settings.text(setting.name)
        settings.path(setting.name)
    from web_widget import config_from_settings

    config_from_settings()
    assert list(tmp_path.iterdir()) == []


def test_widget_origins_are_https_origins_with_plain_http_only_on_loopback(monkeypatch):
    monkeypatch.setenv("YISHI_WIDGET_ORIGINS", "https://www.longquanyi.gov.cn, http://127.0.0.1:8123,http://localhost:9")
    assert settings.widget_origins() == ["https://www.longquanyi.gov.cn", "http://127.0.0.1:8123", "http://localhost:9"]
    for wrong in ("http://www.longquanyi.gov.cn", "https://www.longquanyi.gov.cn/", "https://a.gov.cn/path",
                  "https://a.gov.cn:port", "www.longquanyi.gov.cn", "*", "https://user@a.gov.cn", "null"):
        monkeypatch.setenv("YISHI_WIDGET_ORIGINS", f"https://ok.gov.cn,{wrong}")
        with pytest.raises(ValueError, match="YISHI_WIDGET_ORIGINS"):
            settings.widget_origins()
