"""What the benchmarks share: visitors through the web app (cookie sessions) or straight to a Rasa REST
webhook, percentiles, and the memory of a process with its children."""

from __future__ import annotations

import os
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

from assistant.payloads import RICH_CONTRACT

Script = Callable[[], list[str]]  # the messages of one new visitor
# a benchmark's visitors come from one address at machine speed: the web app's rate limits lifted
UNLIMITED_RATES = {"YISHI_RATE_PER_IP": "1000000", "YISHI_RATE_PER_SESSION": "1000000"}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))] if ordered else float("nan")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def tree_mb(pid: int) -> float:
    """Resident memory of a process and its children (gunicorn's workers, the action server's)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return rss_mb(pid) + sum(tree_mb(int(child)) for child in children)


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) a process and its children have used so far."""
    tick = os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick + sum(cpu_seconds(int(child)) for child in children)


@dataclass
class Run:
    """The latency of every message (ms), the wall time, and what went wrong."""

    times: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        if not self.times:
            return "no messages"
        rate = f"{len(self.times) / self.seconds:.1f} msg/s, " if self.seconds else ""
        return (f"{len(self.times)} messages, {rate}p50 {statistics.median(self.times):.0f} ms, "
                f"p95 {percentile(self.times, 0.95):.0f} ms, p99 {percentile(self.times, 0.99):.0f} ms"
                + (f", {len(self.errors)} errors {sorted(set(self.errors))[:3]}" if self.errors else ""))


class WebVisitor:
    """A citizen in the widget: a cookie session talking to the web app's /chat/message."""

    def __init__(self, web_url: str):
        self.url = f"{web_url}/chat/message"
        self.session = requests.Session()

    def say(self, text: str) -> str | None:
        """None when a real answer came, else what went wrong."""
        try:
            response = self.session.post(self.url, json={"text": text}, timeout=60)
        except requests.RequestException as exc:
            return type(exc).__name__
        if response.status_code != 200:
            return str(response.status_code)
        messages = response.json().get("messages") or []
        polite = messages and (messages[0].get("custom") or {}).get("type") == "fallback" and \
            "系统暂时没能回答" in (messages[0].get("text") or "")
        return "polite fallback" if polite or not messages else None


class RestVisitor:
    """A client of a Rasa server's REST webhook, with a sender id of its own."""

    def __init__(self, rasa_url: str):
        self.url = f"{rasa_url}/webhooks/rest/webhook"
        self.sender = f"bench-{uuid.uuid4().hex}"
        self.session = requests.Session()

    def say(self, text: str) -> str | None:
        try:
            # Yishi's web app announces the rich contract; bare Rasa ignores the metadata
            response = self.session.post(self.url, json={"sender": self.sender, "message": text,
                                                         "metadata": RICH_CONTRACT}, timeout=60)
        except requests.RequestException as exc:
            return type(exc).__name__
        return None if response.status_code == 200 else str(response.status_code)


def crowd(make: Callable[[], WebVisitor | RestVisitor], script: Script, users: int, seconds: float) -> Run:
    """`users` visitors for `seconds`, each running a script then making way for a new visitor."""
    run, lock = Run(), threading.Lock()
    stop = time.monotonic() + seconds

    def visitor() -> None:
        while time.monotonic() < stop:
            person = make()
            for text in script():
                started = time.perf_counter()
                problem = person.say(text)
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    run.times.append(elapsed)
                    if problem:
                        run.errors.append(problem)

    threads = [threading.Thread(target=visitor) for _ in range(users)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.seconds = time.perf_counter() - started
    return run


def one_by_one(make: Callable[[], WebVisitor | RestVisitor], script: Script, conversations: int) -> Run:
    """One visitor at a time: the latency without contention."""
    run = Run()
    started = time.perf_counter()
    for _ in range(conversations):
        person = make()
        for text in script():
            begun = time.perf_counter()
            problem = person.say(text)
            run.times.append((time.perf_counter() - begun) * 1000)
            if problem:
                run.errors.append(problem)
    run.seconds = time.perf_counter() - started
    return run
