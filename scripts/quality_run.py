"""The staff console's quality run: the held-out evaluation, then the conversation tests, in the background.

Writes <results>/quality-run.json (who started it, when, each step's state) and <results>/quality-run.log;
the results themselves go where `make eval` and `make test` put them (<results>/eval.json,
<results>/conversations/). Usage: python scripts/quality_run.py --results results --by wang.li
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from web_widget.quality import LOG, STEPS, write_state  # noqa: E402


def steps(args: argparse.Namespace) -> list[tuple[str, list[str]]]:
    """The commands of STEPS, in order."""
    python = sys.executable
    rasa = str(Path(python).with_name("rasa"))
    return [
        (STEPS[0], [python, str(PROJECT / "scripts" / "evaluate.py"), "--model", str(args.model),
                  "--cases", str(args.cases), "--out", str(args.results / "eval.json")]),
        (STEPS[1], [rasa, "test", "core", "--model", str(args.model), "--stories", str(args.stories),
                           "--out", str(args.results / "conversations"), "--quiet"]),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--results", type=Path, default=PROJECT / "results")
    parser.add_argument("--model", type=Path, default=PROJECT / "models" / "yishi.tar.gz")
    parser.add_argument("--cases", type=Path, default=PROJECT / "tests" / "eval" / "heldout.yml")
    parser.add_argument("--stories", type=Path, default=PROJECT / "tests" / "conversations")
    parser.add_argument("--by", default="")
    args = parser.parse_args()
    args.results.mkdir(parents=True, exist_ok=True)
    state = {"pid": os.getpid(), "by": args.by, "started": time.time(), "finished": None,
             "steps": {name: "waiting" for name, _ in steps(args)}}
    write_state(args.results, state)
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
           "TF_CPP_MIN_LOG_LEVEL": "2"}  # the log staff read: fewer TensorFlow info lines
    ok = True
    with open(args.results / LOG, "w", encoding="utf-8") as log:
        for name, command in steps(args):
            state["steps"][name] = "running"
            write_state(args.results, state)
            done = subprocess.run(command, cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
            state["steps"][name] = "done" if done.returncode == 0 else f"failed ({done.returncode})"
            ok = ok and done.returncode == 0
            write_state(args.results, state)
    state["finished"] = time.time()
    write_state(args.results, state)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
