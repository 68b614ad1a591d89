"""Start the real action server and Rasa server (trained model, SQLite tracker store) for tests and benchmarks."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import jwt

from scripts.warmup import post
from web_widget.chat import pin

PROJECT = Path(__file__).resolve().parent.parent
RASA = str(PROJECT / ".venv" / "bin" / "rasa")
MODEL = PROJECT / "models" / "yishi.tar.gz"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stack:
    folder: Path
    rasa_ports: list[int]
    actions_port: int
    jwt_secret: str
    env: dict[str, str]
    processes: list[subprocess.Popen] = field(default_factory=list)  # the action server, then each Rasa server

    @property
    def rasa_port(self) -> int:
        return self.rasa_ports[0]

    @property
    def rasa_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.rasa_ports]

    @property
    def rasa_url(self) -> str:
        return self.rasa_urls[0]

    @property
    def tracker_db(self) -> Path:
        return self.folder / "rasa.db"

    def token(self) -> str:
        return jwt.encode({"user": {"username": "tests", "role": "admin"}}, self.jwt_secret, algorithm="HS256")

    def say(self, sender: str, text: str, timeout: float = 30) -> list[dict]:
        """One message through the REST webhook; the list of bot messages."""
        return post(f"{pin(self.rasa_urls, sender)}/webhooks/rest/webhook", {"sender": sender, "message": text},
                    timeout=timeout)

    def parse(self, text: str) -> dict:
        return post(f"{self.rasa_url}/model/parse", {"text": text}, {"Authorization": f"Bearer {self.token()}"})

    def logs(self) -> str:
        return "".join(p.read_text(encoding="utf-8", errors="replace") for p in sorted(self.folder.glob("*.log")))

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait(url: str, seconds: float, processes: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise RuntimeError(f"a server exited while starting (waiting for {url})")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    raise TimeoutError(f"{url} not ready after {seconds} s")


def start(folder: Path, extra_env: dict[str, str] | None = None, rasa_servers: int = 1) -> Stack:
    """The action server and rasa_servers Rasa servers on free loopback ports, warmed up; logs in folder/*.log."""
    if not MODEL.exists():
        raise FileNotFoundError(f"{MODEL} is missing: run `make model`")
    folder.mkdir(parents=True, exist_ok=True)
    stack = Stack(folder, [free_port() for _ in range(rasa_servers)], free_port(), secrets.token_hex(32), {})
    stack.env = os.environ | {
        "RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "SANIC_HOST": "127.0.0.1",
        "YISHI_ACTION_URL": f"http://127.0.0.1:{stack.actions_port}/webhook",
        "YISHI_TRACKER_DB": str(stack.tracker_db), "YISHI_RASA_URLS": ",".join(stack.rasa_urls),
        "YISHI_RASA_JWT_SECRET": stack.jwt_secret,
    } | (extra_env or {})
    actions_log = open(folder / "actions.log", "w")  # noqa: SIM115 - closed with the process
    stack.processes.append(subprocess.Popen(
        [RASA, "run", "actions", "--actions", "actions", "-p", str(stack.actions_port)],
        cwd=PROJECT, env=stack.env, stdout=actions_log, stderr=subprocess.STDOUT))
    for index, port in enumerate(stack.rasa_ports):
        rasa_out = open(folder / f"rasa-{index}-stdout.log", "w")  # noqa: SIM115
        stack.processes.append(subprocess.Popen(
            [RASA, "run", "--model", str(MODEL), "--endpoints", "bot/endpoints.yml", "--credentials",
             "bot/credentials.yml", "-i", "127.0.0.1", "-p", str(port), "--enable-api", "--jwt-secret",
             stack.jwt_secret, "--jwt-method", "HS256", "--log-file", str(folder / f"rasa-{index}.log")],
            cwd=PROJECT, env=stack.env, stdout=rasa_out, stderr=subprocess.STDOUT))
    try:
        _wait(f"http://127.0.0.1:{stack.actions_port}/health", 60, stack.processes)
        for url in stack.rasa_urls:
            _wait(f"{url}/", 180, stack.processes)
        subprocess.run([sys.executable, str(PROJECT / "scripts" / "warmup.py")], cwd=PROJECT, env=stack.env,
                       check=True, capture_output=True)
    except Exception:
        stack.stop()
        raise
    return stack
