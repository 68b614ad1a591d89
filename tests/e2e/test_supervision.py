"""Killing any one component does not take the others down (issue 14, req 4): `make run`'s supervisord
(deploy/supervisord.conf, as it ships) restarts the dead one alone while visitors keep chatting."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time

import pytest
import requests

from ops.stack import BIN, free_port
from yishi import settings

QUESTION = "想开个洗车铺子"


class Supervised:
    def __init__(self, folder):
        self.folder = folder
        self.ports = {"actions": free_port(), "rasa-0": free_port(), "rasa-1": free_port(), "web": free_port()}
        self.web = f"http://127.0.0.1:{self.ports['web']}"
        self.env = os.environ | {
            "RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "YISHI_LOG_DIR": str(folder), "YISHI_TRACKER_DB": str(folder / "rasa.db"),
            "YISHI_WEB_DB": str(folder / "web.db"), "YISHI_SECRET_KEY": "supervision-tests",
            "YISHI_RASA_JWT_SECRET": secrets.token_hex(32), "YISHI_RASA_SERVERS": "2",
            "YISHI_RASA_URLS": f"http://127.0.0.1:{self.ports['rasa-0']},http://127.0.0.1:{self.ports['rasa-1']}",
            "YISHI_ACTIONS_PORT": str(self.ports["actions"]),
            "YISHI_ACTION_URL": f"http://127.0.0.1:{self.ports['actions']}/webhook",
            "YISHI_WEB_HOST": "127.0.0.1", "YISHI_WEB_PORT": str(self.ports["web"]), "YISHI_WEB_WORKERS": "1"}
        self.process = subprocess.Popen([str(BIN / "supervisord"), "-c", str(settings.home() / "deploy/supervisord.conf")],
                                        cwd=settings.home(), env=self.env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.STDOUT)

    def ctl(self, *args: str) -> str:
        return subprocess.run([str(BIN / "supervisorctl"), "-s", f"unix://{self.folder}/supervisor.sock", *args],
                              capture_output=True, text=True, timeout=30).stdout

    def pids(self) -> dict[str, int]:
        """Each component's pid, as supervisord reports it (RUNNING ones only)."""
        found = {}
        for line in self.ctl("status").splitlines():
            parts = line.split()
            if len(parts) >= 4 and parts[1] == "RUNNING":
                found[parts[0].split(":")[-1]] = int(parts[3].rstrip(","))
        return found

    def wait_running(self, seconds: float = 240) -> dict[str, int]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            pids = self.pids()
            if len(pids) == 4 and self.healthy():
                return pids
            time.sleep(1)
        raise TimeoutError(f"not every component came up: {self.ctl('status')}")

    def healthy(self) -> bool:
        urls = [f"http://127.0.0.1:{self.ports['actions']}/health", f"{self.web}/healthz",
                *(f"http://127.0.0.1:{self.ports[f'rasa-{i}']}/" for i in range(2))]
        try:
            return all(requests.get(url, timeout=2).status_code == 200 for url in urls)
        except requests.RequestException:
            return False

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="module")
def supervised(tmp_path_factory):
    running = Supervised(tmp_path_factory.mktemp("supervised"))
    try:
        running.wait_running()
        yield running
    finally:
        running.stop()


def answered(visitor: requests.Session, web: str) -> str:
    """'answer', 'fallback' or 'refused' for one question through the web app."""
    try:
        reply = visitor.post(f"{web}/chat/message", json={"text": QUESTION}, timeout=30)
    except requests.ConnectionError:
        return "refused"
    messages = reply.json().get("messages") or []
    return "answer" if any((m.get("custom") or {}).get("type") == "bundle" for m in messages) else "fallback"


@pytest.mark.parametrize("component", ["actions", "rasa-0", "web"])
def test_a_killed_component_is_restarted_alone_while_visitors_chat(supervised, component):
    visitors = [requests.Session() for _ in range(6)]  # each pinned by its session to one of the Rasa servers
    assert [answered(v, supervised.web) for v in visitors] == ["answer"] * 6
    before = supervised.pids()
    os.kill(before[component], signal.SIGKILL)
    time.sleep(0.5)
    while_down = {answered(v, supervised.web) for v in visitors}
    # while it is down, never an error page: polite fallbacks (for the web app itself: refused connections)
    assert while_down <= {"actions": {"fallback"}, "rasa-0": {"answer", "fallback"},
                          "web": {"answer", "refused"}}[component], while_down
    after = supervised.wait_running()
    assert after[component] != before[component]  # restarted
    assert {name: pid for name, pid in after.items() if name != component} == \
        {name: pid for name, pid in before.items() if name != component}  # nothing else was touched
    assert [answered(v, supervised.web) for v in visitors] == ["answer"] * 6
    assert f"exited: {component} (terminated by SIGKILL" in (supervised.folder / "supervisord.log").read_text()
