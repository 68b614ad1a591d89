"""The console's background quality run: the held-out evaluation, then the conversation tests.

`start` launches `python -m web_widget.staff.jobs` (one run at a time); the run writes
<results>/quality-run.json (who started it, when, each step's state) and <results>/quality-run.log;
the results themselves go where `make eval` and `make test` put them (<results>/eval.json,
<results>/conversations/), and the 质量 page reads them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from yishi import settings

STATE, LOG = "quality-run.json", "quality-run.log"  # what a run writes into the results folder
STEPS = ("eval", "conversations")
_children: list[subprocess.Popen] = []  # runs started by this process, reaped once they end


def write_state(results: Path, state: dict[str, Any], name: str = STATE) -> None:
    """The run's state file, replaced atomically (the page may read it at any moment)."""
    tmp = results / f".{name}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, results / name)


def run_state(results: Path, name: str = STATE, log_name: str = LOG) -> dict[str, Any] | None:
    """The last console run of a kind (the quality run, or a retraining): who, when, each step; `running` only while
    its process is alive."""
    _children[:] = [child for child in _children if child.poll() is None]
    try:
        state = json.loads((results / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    alive = state.get("finished") is None and _alive(state.get("pid"))
    state["running"] = alive
    if state.get("finished") is None and not alive:
        state["steps"] = {k: ("interrupted" if v in ("running", "waiting") else v) for k, v in state["steps"].items()}
    state["started_at"] = dt.datetime.fromtimestamp(state["started"]).strftime("%Y-%m-%d %H:%M:%S")
    log = results / log_name
    state["log_tail"] = log.read_text(encoding="utf-8", errors="replace")[-3000:] if log.exists() else ""
    return state


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "\nState:\tZ" in status.read_text())


def busy(results: Path) -> bool:
    """Whether a quality run or a retraining is running (one heavy job at a time: they share the cores)."""
    from . import retrain

    return any((state := run_state(results, name, log)) is not None and state["running"]
               for name, log in ((STATE, LOG), (retrain.STATE, retrain.LOG)))


def start(results: Path, by: str, model: Path, cases: Path, stories: Path) -> bool:
    """Start a run in the background unless one (or a retraining) is running; False when one already is."""
    if busy(results):
        return False
    results.mkdir(parents=True, exist_ok=True)
    child = launch(__name__, ["--results", str(results), "--by", by, "--model", str(model), "--cases", str(cases),
                              "--stories", str(stories)])
    # the run is visible (and a second click refused) before the child has even started Python
    write_state(results, {"pid": child.pid, "by": by, "started": time.time(), "finished": None,
                          "steps": {name: "waiting" for name in STEPS}})
    return True


def evaluate_command(model: Path, cases: Path, out: Path, blind: Path | None = None) -> list[str]:
    """`make eval`'s evaluation of a model, its eval.json written into the folder out."""
    return [sys.executable, "-m", "ops.evaluate", "--model", str(model), "--cases", str(cases),
            *(["--blind", str(blind)] if blind is not None else []), "--out", str(out / "eval.json")]


def conversations_command(model: Path, stories: Path, out: Path) -> list[str]:
    """The conversation tests (`rasa test core`) of a model, their report written into out/conversations."""
    return [str(Path(sys.executable).with_name("rasa")), "test", "core", "--model", str(model), "--stories", str(stories),
            "--out", str(out / "conversations"), "--quiet"]


def steps(args: argparse.Namespace) -> list[tuple[str, list[str]]]:
    """The commands of STEPS, in order."""
    return [(STEPS[0], evaluate_command(args.model, args.cases, args.results)),
            (STEPS[1], conversations_command(args.model, args.stories, args.results))]


class Run:
    """A background run as the console shows it: its state file (who, when, each step's state) rewritten at every
    change, each step's output appended to its log."""

    ENV = {"RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
           "TF_CPP_MIN_LOG_LEVEL": "2"}  # the log staff read: fewer TensorFlow info lines

    def __init__(self, results: Path, by: str, names: list[str], state_name: str = STATE, log_name: str = LOG):
        results.mkdir(parents=True, exist_ok=True)
        self.results, self.name = results, state_name
        self.state = {"pid": os.getpid(), "by": by, "started": time.time(), "finished": None,
                      "steps": {name: "waiting" for name in names}}
        self.log = open(results / log_name, "w", encoding="utf-8")  # noqa: SIM115 - closed by finish()
        write_state(results, self.state, state_name)

    def mark(self, name: str, state: str) -> None:
        self.state["steps"][name] = state
        write_state(self.results, self.state, self.name)

    def step(self, name: str, command: list[str]) -> bool:
        """Run one step's command; whether it exited 0."""
        self.mark(name, "running")
        self.log.write(f"\n==> {name}: {' '.join(command)}\n")
        self.log.flush()
        done = subprocess.run(command, cwd=settings.home(), env={**os.environ, **self.ENV}, stdout=self.log,
                              stderr=subprocess.STDOUT, check=False)
        self.mark(name, "done" if done.returncode == 0 else f"failed ({done.returncode})")
        return done.returncode == 0

    def finish(self, ok: bool) -> int:
        self.log.close()
        self.state.update(finished=time.time(), ok=ok)
        write_state(self.results, self.state, self.name)
        return 0 if ok else 1


def launch(module: str, arguments: list[str]) -> subprocess.Popen:
    """`python -m module arguments…` in its own session, detached from the request that started it."""
    child = subprocess.Popen([sys.executable, "-m", module, *arguments], cwd=settings.home(), stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    _children.append(child)
    return child


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--results", type=Path, default=settings.path("YISHI_RESULTS_DIR"))
    parser.add_argument("--model", type=Path, default=settings.path("YISHI_MODEL"))
    parser.add_argument("--cases", type=Path, default=settings.path("YISHI_EVAL_CASES"))
    parser.add_argument("--stories", type=Path, default=settings.path("YISHI_CONVERSATION_STORIES"))
    parser.add_argument("--by", default="")
    args = parser.parse_args()
    run = Run(args.results, args.by, list(STEPS))
    ok = True
    for name, command in steps(args):
        ok = run.step(name, command) and ok
    return run.finish(ok)


if __name__ == "__main__":
    sys.exit(main())
