"""Private PostgreSQL and Redis instances for the city profile's tests and benchmarks (issue 14, req 3).

Each runs from Debian's packages in a temporary folder on a free loopback port, never as a system service, and is
stopped with its folder. PostgreSQL refuses to run as root: as root, its folder belongs to the `postgres` user and
its commands run as that user (runuser).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .stack import free_port


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:  # never skip silently: make browser installs it
        raise RuntimeError("PostgreSQL is missing: apt-get install postgresql")
    return found[-1]


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@dataclass
class Postgres:
    folder: Path
    port: int
    database: str = "yishi"
    user: str = "yishi"

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{self.database}"

    def _ctl(self, *args: str, check: bool = True) -> None:
        subprocess.run(_as_postgres([_pg_bin("pg_ctl"), "-D", str(self.folder / "data"), *args]), check=check,
                       capture_output=True, timeout=120)

    def start(self) -> None:
        self._ctl("-l", str(self.folder / "postgres.log"), "-w", "-o",
                  f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "-w", "stop", check=False)

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


def start_postgres() -> Postgres:
    """A new PostgreSQL cluster with a database and a user (trust authentication on loopback, tests only), in a
    folder of its own under the system's temporary folder (the postgres user must reach it: pytest's are private)."""
    folder = Path(tempfile.mkdtemp(prefix="yishi-postgres-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    server = Postgres(folder, free_port())
    subprocess.run(_as_postgres([_pg_bin("initdb"), "-D", str(folder / "data"), "-U", "postgres", "-A", "trust",
                                 "-E", "UTF8", "--locale=C.UTF-8"]), check=True, capture_output=True, timeout=120)
    server.start()
    psql = _as_postgres([_pg_bin("psql"), "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres", "-v",
                         "ON_ERROR_STOP=1", "-c"])
    subprocess.run([*psql, f"create user {server.user}"], check=True, capture_output=True, timeout=60)
    subprocess.run([*psql, f"create database {server.database} owner {server.user}"], check=True,
                   capture_output=True, timeout=60)
    return server


@dataclass
class Redis:
    folder: Path
    port: int
    process: subprocess.Popen
    password: str | None = None  # given to clients apart from the URL, as YISHI_REDIS_PASSWORD is

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def start_redis(folder: Path, password: str | None = None) -> Redis:
    redis = shutil.which("redis-server")
    if redis is None:  # never skip silently: make browser installs it
        raise RuntimeError("redis-server is missing: apt-get install redis-server")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    process = subprocess.Popen([redis, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder), "--save", "",
                                "--appendonly", "no", "--logfile", str(folder / "redis.log"),
                                *(["--requirepass", password] if password else [])],
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        probe = subprocess.run([shutil.which("redis-cli") or "redis-cli", "-p", str(port),
                                *(["-a", password, "--no-auth-warning"] if password else []), "ping"],
                               capture_output=True, text=True, timeout=10)
        if probe.stdout.strip() == "PONG":
            return Redis(folder, port, process, password)
        time.sleep(0.2)
    process.kill()
    raise TimeoutError("redis-server did not start")


@dataclass
class Haproxy:
    process: subprocess.Popen
    rasa_port: int  # where the Rasa servers are reached through it
    actions_port: int  # where the action servers are reached through it
    log: Path

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}/webhook"

    def log_lines(self, offset: int = 0) -> list[str]:
        return self.log.read_text(encoding="utf-8", errors="replace")[offset:].splitlines()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


RASA_SLOTS, ACTION_SLOTS = 3, 2  # servers deploy/haproxy.cfg names


def start_haproxy(folder: Path, rasa: list[str], actions: list[str]) -> Haproxy:
    """deploy/haproxy.cfg as it ships, on free loopback ports, in front of these Rasa and action servers (host:port);
    a slot with no server points at a closed port and stays down."""
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(haproxy).exists():  # never skip silently: make browser installs it
        raise RuntimeError("HAProxy is missing: apt-get install haproxy")
    from yishi import settings

    folder.mkdir(parents=True, exist_ok=True)
    rasa_port, actions_port = free_port(), free_port()
    env = {"RASA_LB_BIND": f"127.0.0.1:{rasa_port}", "ACTIONS_LB_BIND": f"127.0.0.1:{actions_port}"}
    for prefix, servers, slots in (("RASA_LB_SERVER", rasa, RASA_SLOTS), ("ACTIONS_LB_SERVER", actions, ACTION_SLOTS)):
        if len(servers) > slots:
            raise ValueError(f"deploy/haproxy.cfg names {slots} servers for {prefix}, not {len(servers)}")
        for slot in range(slots):
            env[f"{prefix}_{slot}"] = servers[slot] if slot < len(servers) else f"127.0.0.1:{free_port()}"
    log = folder / "haproxy.log"
    process = subprocess.Popen([haproxy, "-f", str(settings.home() / "deploy" / "haproxy.cfg")], env=env,
                               stdout=log.open("w"), stderr=subprocess.STDOUT)
    return Haproxy(process, rasa_port, actions_port, log)
