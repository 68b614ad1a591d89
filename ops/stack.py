"""Start the real action server and Rasa servers (trained model, SQLite tracker store) for tests and benchmarks."""

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

from yishi import settings
from yishi.rasa_client import RasaClient

from . import warmup

BIN = Path(sys.executable).parent  # the virtual environment's scripts, rasa among them


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rasa_server_command(model: Path, port: int, jwt_secret: str, log_file: Path,
                        environ: dict[str, str] | None = None) -> list[str]:
    """A Rasa server as Yishi runs it: on YISHI_RASA_HOST (loopback unless another host must reach it), the HTTP API
    behind a JWT, speedups installed; the endpoints of the profile its environment (`environ`, default this
    process's) selects."""
    return [sys.executable, "-m", "rasa_ext.server", "run", "--model", str(model), "--endpoints",
            settings.rasa_endpoints(environ),
            "--credentials", "bot/credentials.yml", "-i", (environ or os.environ).get("YISHI_RASA_HOST") or "127.0.0.1",
            "-p", str(port), "--enable-api",
            "--jwt-secret", jwt_secret, "--jwt-method", "HS256", "--log-file", str(log_file)]


def actions_command(port: int, package: str = "actions") -> list[str]:
    """The action server (listening where SANIC_HOST in its environment says: YISHI_ACTIONS_HOST, loopback by default)."""
    return [str(BIN / "rasa"), "run", "actions", "--actions", package, "-p", str(port)]


def web_command(bind: str, workers: int, logs: Path) -> list[str]:
    """The web app under gunicorn (gthread workers, web_widget/gunicorn_conf.py), its logs in `logs`."""
    return [str(BIN / "gunicorn"), "-c", "python:web_widget.gunicorn_conf", "--bind", bind, "--workers", str(workers),
            "--access-logfile", str(logs / "web-access.log"), "--error-logfile", str(logs / "web.log"),
            "web_widget:create_app()"]


@dataclass
class Stack:
    folder: Path
    rasa_ports: list[int]
    actions_port: int
    jwt_secret: str
    env: dict[str, str]
    actions_package: str = "actions"
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

    def client(self, timeout: float = 30) -> RasaClient:
        return RasaClient(self.rasa_urls, self.jwt_secret, timeout=timeout, username="tests")

    def token(self) -> str:
        return self.client().auth()["Authorization"].removeprefix("Bearer ")

    def say(self, sender: str, text: str, timeout: float = 30) -> list[dict]:
        """One message through the REST webhook; the list of bot messages."""
        return self.client(timeout).send(sender, text)

    def parse(self, text: str) -> dict:
        return RasaClient([self.rasa_url], self.jwt_secret, timeout=30).parse(text)

    def start_actions(self) -> subprocess.Popen:
        """Start the action server (again, after a test stopped it) and wait until it answers."""
        log = open(self.folder / "actions.log", "a")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            actions_command(self.actions_port, self.actions_package),
            cwd=settings.home(), env=self.env, stdout=log, stderr=subprocess.STDOUT)
        if self.processes:
            self.processes[0] = process
        else:
            self.processes.append(process)
        _wait(f"http://127.0.0.1:{self.actions_port}/health", 60, [process])
        return process

    def start_web(self, workers: int | None = None, extra_env: dict[str, str] | None = None,
                  folder: Path | None = None, code: Path | None = None) -> "Web":
        """The web app under gunicorn (as `make run` starts it) in front of this stack, on a free loopback port.

        Its web.db, session key and logs live in `folder` (default the stack's); stopped with the stack. `code`: run
        another checkout's code (a git worktree of an earlier commit, bench/web_ab.py) on this checkout's data."""
        port = free_port()
        folder = folder or self.folder
        folder.mkdir(parents=True, exist_ok=True)
        env = self.env | {"YISHI_WEB_DB": str(folder / "web.db"),
                          "YISHI_SECRET_KEY_FILE": str(folder / "secret_key"),
                          "YISHI_LOG_DIR": str(folder)} | (extra_env or {})
        if code is not None:
            env |= {"YISHI_HOME": str(settings.home()), "PYTHONPATH": str(code)}
        workers = workers or settings.integer("YISHI_WEB_WORKERS")
        log = open(folder / "web-stdout.log", "a")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(web_command(f"127.0.0.1:{port}", workers, folder),
                                   cwd=code or settings.home(), env=env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        _wait(f"http://127.0.0.1:{port}/healthz", 60, [process])
        return Web(f"http://127.0.0.1:{port}", process, env)

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


@dataclass
class Web:
    """The web app started by Stack.start_web: its address, process and environment."""

    url: str
    process: subprocess.Popen
    env: dict[str, str]

    def add_staff(self, username: str, password: str, role: str = "readonly") -> None:
        """A console account, made the way staff make one (`yishi staff add --role … --password-stdin`)."""
        subprocess.run([str(BIN / "yishi"), "staff", "add", username, "--role", role, "--password-stdin"],
                       input=password + "\n", text=True, env=self.env, cwd=settings.home(), check=True,
                       capture_output=True)


def _wait(url: str, seconds: float, processes: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise RuntimeError(f"a server exited while starting (waiting for {url})")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback only
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    raise TimeoutError(f"{url} not ready after {seconds} s")


def start(folder: Path, extra_env: dict[str, str] | None = None, rasa_servers: int = 1,
          model: Path | None = None, actions_package: str = "actions", rasa_ports: list[int] | None = None,
          actions_port: int | None = None, code: Path | None = None) -> Stack:
    """The action server and rasa_servers Rasa servers on loopback ports (free ones unless given), warmed up; logs in
    folder/*.log. `code`: run another checkout's code (a git worktree of an earlier commit, bench/web_ab.py
    --whole-stack) on this checkout's data and model."""
    model = model or settings.path("YISHI_MODEL")
    if not model.exists():
        raise FileNotFoundError(f"{model} is missing: run `make model`")
    home = settings.home()
    folder.mkdir(parents=True, exist_ok=True)
    stack = Stack(folder, rasa_ports or [free_port() for _ in range(rasa_servers)], actions_port or free_port(),
                  secrets.token_hex(32), {}, actions_package)
    stack.env = os.environ | {
        "RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "SANIC_HOST": "127.0.0.1",
        "YISHI_ACTION_URL": f"http://127.0.0.1:{stack.actions_port}/webhook",
        "YISHI_TRACKER_DB": str(stack.tracker_db), "YISHI_RASA_URLS": ",".join(stack.rasa_urls),
        "YISHI_RASA_JWT_SECRET": stack.jwt_secret,
    } | (extra_env or {})
    if code is not None:
        stack.env |= {"YISHI_HOME": str(home), "PYTHONPATH": str(code)}
    actions_log = open(folder / "actions.log", "w")  # noqa: SIM115 - closed with the process
    stack.processes.append(subprocess.Popen(
        actions_command(stack.actions_port, actions_package),
        cwd=code or home, env=stack.env, stdout=actions_log, stderr=subprocess.STDOUT))
    for index, port in enumerate(stack.rasa_ports):
        rasa_out = open(folder / f"rasa-{index}-stdout.log", "w")  # noqa: SIM115
        stack.processes.append(subprocess.Popen(
            rasa_server_command(model, port, stack.jwt_secret, folder / f"rasa-{index}.log", stack.env),
            cwd=code or home, env=stack.env, stdout=rasa_out, stderr=subprocess.STDOUT))
    try:
        _wait(f"http://127.0.0.1:{stack.actions_port}/health", 60, stack.processes)
        for url in stack.rasa_urls:
            _wait(f"{url}/", 180, stack.processes)
        for url in stack.rasa_urls:
            warmup.warm(stack.client(60), url, settings.tracker_url(stack.env))
    except Exception:
        stack.stop()
        raise
    return stack
