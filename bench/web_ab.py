"""The web app's own cost, this checkout against an earlier commit (issue 13), without the machine's noise between
runs: one Rasa stack (ops.stack) and two web apps in front of it under gunicorn as `make run` starts them, one from
this checkout and one from a git worktree of REF (its code only: the data directory is this checkout's), visitors
taking turns message by message so both see the same machine. Prints each one's latency (p50, p95) and its web app's
CPU per message, then the ratios. Figures, never pass/fail.

With --whole-stack, each checkout runs a stack of its own (action server, one Rasa server, web app) from its own code
on this checkout's model and data, for changes to the Rasa side; the CPU is then the whole stack's per message.

    .venv/bin/python bench/web_ab.py [REF, default HEAD] [--visitors N, default 30] [--whole-stack]
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
from bench.load import UNLIMITED_RATES, WebVisitor, cpu_seconds, percentile  # noqa: E402
from ops import stack as stack_module  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ref", nargs="?", default="HEAD")
    parser.add_argument("--visitors", type=int, default=30)
    parser.add_argument("--whole-stack", action="store_true", help="REF's code for its own Rasa and action servers too")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        subprocess.run(["git", "-C", str(PROJECT), "worktree", "add", "--detach", str(base), args.ref], check=True,
                       capture_output=True)
        stacks = {"this checkout": stack_module.start(Path(tmp) / "stack", rasa_servers=1)}
        try:
            stacks[args.ref] = (stack_module.start(Path(tmp) / "stack-old", rasa_servers=1, code=base)
                                if args.whole_stack else stacks["this checkout"])
            webs = {name: stacks[name].start_web(extra_env=UNLIMITED_RATES, folder=Path(tmp) / folder, code=code)
                    for name, folder, code in (("this checkout", "new", None), (args.ref, "old", base))}
            measured = {name: {"web app": web.process.pid} | ({"Rasa server": stacks[name].processes[1].pid,
                                                                "action server": stacks[name].processes[0].pid}
                                                               if args.whole_stack else {})
                        for name, web in webs.items()}
            what = "whole stack" if args.whole_stack else "web app"
            times: dict[str, list[float]] = {name: [] for name in webs}
            cpu = {name: dict.fromkeys(measured[name], 0.0) for name in webs}
            for _ in range(2):  # what loads lazily, in both
                for web in webs.values():
                    visitor = WebVisitor(web.url)
                    for text in CONVERSATION:
                        visitor.say(text)
            for _ in range(args.visitors):
                visitors = {name: WebVisitor(web.url) for name, web in webs.items()}
                for text in CONVERSATION:
                    for name, visitor in visitors.items():
                        used = {part: cpu_seconds(pid) for part, pid in measured[name].items()}
                        begun = time.perf_counter()
                        problem = visitor.say(text)
                        times[name].append((time.perf_counter() - begun) * 1000)
                        for part, pid in measured[name].items():
                            cpu[name][part] += cpu_seconds(pid) - used[part]
                        if problem:
                            print(f"{name}: {problem}")
            count = args.visitors * len(CONVERSATION)
            for name in webs:
                parts = ", ".join(f"{part} {seconds / count * 1000:.2f}" for part, seconds in cpu[name].items())
                print(f"{name:>14}: {count} messages, p50 {statistics.median(times[name]):.1f} ms, "
                      f"p95 {percentile(times[name], 0.95):.1f} ms; {what} CPU {sum(cpu[name].values()) / count * 1000:.2f} "
                      f"ms per message" + (f" ({parts})" if len(cpu[name]) > 1 else ""))
            new, old = webs
            print(f"ratios, this checkout / {old}: p50 {statistics.median(times[new]) / statistics.median(times[old]):.2f}, "
                  f"{what} CPU {sum(cpu[new].values()) / max(sum(cpu[old].values()), 1e-9):.2f}")
        finally:
            for stack in {id(stack): stack for stack in stacks.values()}.values():
                stack.stop()  # the web apps with it
            subprocess.run(["git", "-C", str(PROJECT), "worktree", "remove", "--force", str(base)], check=False,
                           capture_output=True)


if __name__ == "__main__":
    main()
