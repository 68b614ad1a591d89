"""Chat benchmarks on the real stack: REST round trips (one user, 20 users), first message after start,
memory of each process, and training from scratch. Prints figures; never fails on them."""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bench.load import percentile, rss_mb  # noqa: E402
from ops import stack as stack_module  # noqa: E402

# One citizen's conversation: a bundle, a situational answer, follow-ups, a switch, small talk,
# out of scope. Each simulated user runs it again and again, as a new visitor each time.
CONVERSATION = ["我要开健身房", "是的", "要带什么材料", "要多久", "想开个洗车铺子", "在哪里办", "明天会下雨吗", "谢谢"]


def timed(stack: stack_module.Stack, sender: str, text: str) -> float:
    started = time.perf_counter()
    assert stack.say(sender, text), text
    return (time.perf_counter() - started) * 1000


def conversations(stack: stack_module.Stack, count: int) -> list[float]:
    """count conversations one after the other, each as a new visitor; the latency of every message."""
    times = []
    for _ in range(count):
        sender = f"bench-{uuid.uuid4().hex}"
        times += [timed(stack, sender, text) for text in CONVERSATION]
    return times


def one_user(stack: stack_module.Stack, count: int = 15) -> None:
    times = conversations(stack, count)
    print(f"one user, {count} conversations, {len(times)} messages: p50 {statistics.median(times):.0f} ms, "
          f"p99 {percentile(times, 0.99):.0f} ms  (target p50 ≤ 50 ms)")


def many_users(stack: stack_module.Stack, users: int = 20, each: int = 3) -> None:
    times: list[float] = []
    lock = threading.Lock()

    def user() -> None:
        elapsed = conversations(stack, each)
        with lock:
            times.extend(elapsed)

    threads = [threading.Thread(target=user) for _ in range(users)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    print(f"{users} users, {len(times)} messages: {len(times) / wall:.1f} messages/s, p50 {statistics.median(times):.0f} ms, "
          f"p99 {percentile(times, 0.99):.0f} ms  (target ≥ 60 messages/s with p99 ≤ 500 ms)")


def first_message(folder: Path) -> None:
    started = time.perf_counter()
    stack = stack_module.start(folder)
    ready = time.perf_counter() - started
    try:
        first = timed(stack, f"bench-{uuid.uuid4().hex}", "想开个洗车铺子")
        rest = [timed(stack, f"bench-{uuid.uuid4().hex}", "想开个洗车铺子") for _ in range(20)]
        print(f"start to ready (incl. warm-up): {ready:.1f} s; first message {first:.0f} ms, "
              f"next 20 median {statistics.median(rest):.0f} ms")
    finally:
        stack.stop()


def training(folder: Path) -> None:
    started = time.perf_counter()
    subprocess.run([str(PROJECT / ".venv/bin/rasa"), "train", "--config", "bot/config.yml", "--domain",
                    "build/rasa/domain", "--data", "nlu_data", "build/rasa/data", "--out", str(folder),
                    "--fixed-model-name", "bench", "--force"], cwd=PROJECT, check=True, capture_output=True,
                   env={"RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
                        "PATH": "/usr/bin:/bin"})
    print(f"training from scratch: {time.perf_counter() - started:.0f} s  (target ≤ 180 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="20-user runs per stack (they vary from run to run)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        first_message(Path(tmp) / "cold")
        for servers in (1, 2):
            stack = stack_module.start(Path(tmp) / f"stack-{servers}", rasa_servers=servers)
            try:
                print(f"-- {servers} Rasa server(s), conversations pinned by sender (as the web app does)")
                one_user(stack)
                for _ in range(args.repeat):
                    many_users(stack)
                names = ["action server"] + [f"Rasa server {i + 1}" for i in range(servers)]
                print("memory: " + ", ".join(f"{n} {rss_mb(p.pid):.0f} MB"
                                             for n, p in zip(names, stack.processes, strict=True)))
            finally:
                stack.stop()
        if not args.skip_training:
            training(Path(tmp) / "models")


if __name__ == "__main__":
    main()
