"""Where one chat message's time goes, per process, in milliseconds (issue 13): py-spy samples the web app
(gunicorn and its workers), the Rasa server and the action server of a stack (ops.stack, one Rasa server) while one
visitor after another sends the scripted conversation through the web app, and the samples are summed into the
parts of a turn. py-spy counts a thread while it runs or waits on the GIL, not while it waits on a socket; it slows
the processes it samples, so compare the rows with each other and one commit with another, not with
bench/web_bench.py.

    .venv/bin/pip install -e '.[profile]'   # py-spy
    .venv/bin/python bench/spy_profile.py [--project PATH] [--conversations 40]

--project runs another checkout's code (a git worktree of an earlier commit, with its own models/ and build/).
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RATE = 200  # samples per second
PARTS = {  # the first of these frames found in a sample names its part
    "Rasa server": [("NLU parse (jieba, featurizers, DIET)", "parse_message (rasa/core/processor.py)"),
                    ("tracker read", "get_tracker (rasa/core/processor.py)"),
                    ("tracker save", "save_tracker (rasa/core/processor.py)"),
                    ("policies (RulePolicy)", "_predict_next_with_tracker (rasa/core/processor.py)"),
                    ("action server call", "run (rasa/core/actions/action.py)"),
                    ("rest of the turn", "handle_message (rasa/core/processor.py)"),
                    ("HTTP server and channel", "connection_task")],
    "web app": [("rate limits", "allow"), ("other store calls", "tolerant (web_widget/chat.py)"),
                ("Rasa client (sending, reading the reply)", "_call (yishi/rasa_client.py)"),
                ("rest of the chat handler", "message (web_widget/chat.py)"),
                ("Flask and gunicorn", "handle_request (gunicorn")],
    "action server": [("actions and rasa-sdk", "")],
}


def parts(raw: Path, process: str, messages: int) -> list[tuple[str, float]]:
    """(part, ms per message) from py-spy's raw output; in the web app, threads outside a request (health probes,
    retention, idle workers) are left out."""
    found: collections.Counter[str] = collections.Counter()
    for line in raw.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]
        if process == "web app" and not any(f.startswith("handle_request (gunicorn") for f in frames):
            continue
        name = next((name for name, key in PARTS[process] if any(f.startswith(key) for f in frames)), "other")
        found[name] += int(count)
    return [(name, count * 1000 / RATE / messages) for name, count in found.most_common()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--conversations", type=int, default=40)
    parser.add_argument("--gil", action="store_true",
                        help="count only the thread holding the GIL (closer to CPU; not comparable with runs without)")
    parser.add_argument("--keep", type=Path, help="a folder to keep py-spy's raw samples in, one file per process")
    args = parser.parse_args()
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if spy is None:
        sys.exit("py-spy is not installed: .venv/bin/pip install -e '.[profile]'")
    project = args.project.resolve()
    sys.path.insert(0, str(project))
    from bench.chat_bench import CONVERSATION
    from bench.load import UNLIMITED_RATES, WebVisitor, one_by_one
    from ops import stack as stack_module

    with tempfile.TemporaryDirectory() as tmp:
        stack = stack_module.start(Path(tmp) / "stack", rasa_servers=1)
        try:
            web = stack.start_web(extra_env=UNLIMITED_RATES)
            one_by_one(lambda: WebVisitor(web.url), lambda: CONVERSATION, 3)  # what loads lazily
            pids = {"web app": stack.processes[-1].pid, "Rasa server": stack.processes[1].pid,
                    "action server": stack.processes[0].pid}
            spies = {name: subprocess.Popen([spy, "record", "-p", str(pid), "-r", str(RATE), "-s", "-f", "raw", "-o",
                                             str(Path(tmp) / f"{pid}.txt")] + (["--gil"] if args.gil else []),
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                     for name, pid in pids.items()}
            time.sleep(2)  # py-spy attached
            run = one_by_one(lambda: WebVisitor(web.url), lambda: CONVERSATION, args.conversations)
            for process in spies.values():
                process.send_signal(signal.SIGINT)
            for process in spies.values():
                process.wait(timeout=60)
        finally:
            stack.stop()
        messages = len(run.times)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for name, pid in pids.items():
                shutil.copy(Path(tmp) / f"{pid}.txt", args.keep / f"{name.replace(' ', '-')}.txt")
        print(f"{project}: {run.line()} (under py-spy)")
        for name, pid in pids.items():
            found = parts(Path(tmp) / f"{pid}.txt", name, messages)
            print(f"  {name}: {sum(ms for _, ms in found):.1f} ms per message: "
                  + ", ".join(f"{part} {ms:.1f}" for part, ms in found))


if __name__ == "__main__":
    main()
