"""The web app's own cost, this checkout against an earlier commit (issue 13), without the machine's noise between
runs: one Rasa stack (ops.stack) and two web apps in front of it under gunicorn as `make run` starts them, one from
this checkout and one from a git worktree of REF (its code only: the data directory is this checkout's), visitors
taking turns message by message so both see the same machine. Prints each one's latency (p50, p95) and its web app's
CPU per message, then the ratios. Figures, never pass/fail.

    .venv/bin/python bench/web_ab.py [REF, default HEAD] [--visitors N, default 30]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bench.chat_bench import CONVERSATION  # noqa: E402
from bench.load import WebVisitor, cpu_seconds, percentile  # noqa: E402
from ops import stack as stack_module  # noqa: E402
from yishi import settings  # noqa: E402

UNLIMITED = {"YISHI_RATE_PER_IP": "1000000", "YISHI_RATE_PER_SESSION": "1000000"}


def start_web(stack: stack_module.Stack, code: Path, folder: Path) -> tuple[subprocess.Popen, str]:
    """A web app of the code in `code` in front of the stack, reading this checkout's data."""
    port = stack_module.free_port()
    folder.mkdir(parents=True)
    env = stack.env | UNLIMITED | {"YISHI_HOME": str(settings.home()), "PYTHONPATH": str(code),
                                   "YISHI_WEB_DB": str(folder / "web.db"),
                                   "YISHI_SECRET_KEY_FILE": str(folder / "secret_key"), "YISHI_LOG_DIR": str(folder)}
    command = stack_module.web_command(f"127.0.0.1:{port}", settings.integer("YISHI_WEB_WORKERS"), folder)
    process = subprocess.Popen(command, cwd=code, env=env, stdout=open(folder / "stdout.log", "w"),  # noqa: SIM115
                               stderr=subprocess.STDOUT)
    stack_module._wait(f"http://127.0.0.1:{port}/healthz", 60, [process])
    return process, f"http://127.0.0.1:{port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ref", nargs="?", default="HEAD")
    parser.add_argument("--visitors", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        subprocess.run(["git", "-C", str(PROJECT), "worktree", "add", "--detach", str(base), args.ref], check=True,
                       capture_output=True)
        stack = stack_module.start(Path(tmp) / "stack", rasa_servers=1)
        webs: dict[str, tuple[subprocess.Popen, str]] = {}
        try:
            webs["this checkout"] = start_web(stack, PROJECT, Path(tmp) / "new")
            webs[args.ref] = start_web(stack, base, Path(tmp) / "old")
            times: dict[str, list[float]] = {name: [] for name in webs}
            cpu = {name: 0.0 for name in webs}
            for _ in range(2):  # what loads lazily, in both
                for _process, url in webs.values():
                    visitor = WebVisitor(url)
                    for text in CONVERSATION:
                        visitor.say(text)
            for _ in range(args.visitors):
                visitors = {name: WebVisitor(url) for name, (_, url) in webs.items()}
                for text in CONVERSATION:
                    for name, visitor in visitors.items():
                        pid = webs[name][0].pid
                        used, begun = cpu_seconds(pid), time.perf_counter()
                        problem = visitor.say(text)
                        times[name].append((time.perf_counter() - begun) * 1000)
                        cpu[name] += cpu_seconds(pid) - used
                        if problem:
                            print(f"{name}: {problem}")
            count = args.visitors * len(CONVERSATION)
            for name in webs:
                print(f"{name:>14}: {count} messages, p50 {statistics.median(times[name]):.1f} ms, "
                      f"p95 {percentile(times[name], 0.95):.1f} ms; web app CPU {cpu[name] / count * 1000:.2f} ms "
                      "per message")
            new, old = webs
            print(f"ratios, this checkout / {old}: p50 {statistics.median(times[new]) / statistics.median(times[old]):.2f}, "
                  f"web app CPU {cpu[new] / max(cpu[old], 1e-9):.2f}")
        finally:
            for process, _ in webs.values():
                process.terminate()
                process.wait(timeout=20)
            stack.stop()
            subprocess.run(["git", "-C", str(PROJECT), "worktree", "remove", "--force", str(base)], check=False,
                           capture_output=True)


if __name__ == "__main__":
    main()
