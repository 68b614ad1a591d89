"""`python -m ops.launch actions | rasa N | web`: one Yishi component in the foreground, as a process supervisor runs
it (deploy/supervisord.conf under `make run`; the same commands suit systemd units). Everything it needs comes from
the settings in the environment; it replaces itself with the component (exec), so the supervisor's signals reach it.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

from ops.stack import actions_command, rasa_server_command, web_command
from yishi import settings


def command(component: str, index: int = 0) -> list[str]:
    """The command line of one component: the action server, Rasa server number `index`, or the web app."""
    logs = settings.path("YISHI_LOG_DIR")
    if component == "actions":
        return actions_command(settings.integer("YISHI_ACTIONS_PORT"))
    if component == "rasa":
        port = urlsplit(settings.rasa_urls()[index]).port
        return rasa_server_command(settings.path("YISHI_MODEL"), port, settings.text("YISHI_RASA_JWT_SECRET"),
                                   logs / f"rasa-{port}.log")
    if component == "web":
        return web_command(f"{settings.text('YISHI_WEB_HOST')}:{settings.text('YISHI_WEB_PORT')}",
                           settings.integer("YISHI_WEB_WORKERS"), logs)
    raise SystemExit(f"usage: python -m ops.launch actions | rasa N | web (not {component!r})")


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit("usage: python -m ops.launch actions | rasa N | web")
    line = command(argv[0], int(argv[1]) if len(argv) > 1 else 0)
    os.chdir(settings.home())
    os.environ.setdefault("SANIC_HOST", settings.text("YISHI_ACTIONS_HOST"))  # where the action server listens
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.execv(line[0], line)


if __name__ == "__main__":
    main(sys.argv[1:])
