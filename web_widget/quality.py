"""The console's quality page: the latest held-out evaluation per bundle, the latest conversation tests,
and starting a new run of both in the background (scripts/quality_run.py)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from catalogue.config import PROJECT_DIR as PROJECT

RUNNER = PROJECT / "scripts" / "quality_run.py"
NO_FAILURES = "None of the test stories failed"
STATE, LOG = "quality-run.json", "quality-run.log"  # what scripts/quality_run.py writes into the results folder
STEPS = ("eval", "conversations")
_children: list[subprocess.Popen] = []  # runs started by this process, reaped once they end


def _when(path: Path) -> str:
    return dt.datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")


def evaluation(results: Path, bundles: dict[str, dict]) -> dict[str, Any] | None:
    """The latest eval.json as a per-bundle table (worst first), with the misclassified utterances."""
    path = results / "eval.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    cases = [c for c in data.get("cases", []) if c.get("kind") == "bundle"]
    errors = data.get("errors", {})
    rows = []
    for slug in sorted({c["bundle"] for c in cases} | set(bundles)):
        mine = [c for c in cases if c["bundle"] == slug]
        wrong = errors.get(slug, [])
        top1_wrong = sum(1 for e in wrong if e.get("top") != slug)
        rows.append({"slug": slug, "name": bundles.get(slug, {}).get("name", slug), "cases": len(mine),
                     "top1": len(mine) - top1_wrong, "direct": len(mine) - len(wrong), "errors": wrong,
                     "known": slug in bundles})
    rows.sort(key=lambda r: (-len(r["errors"]), r["cases"] == 0, r["slug"]))
    return {
        "when": _when(path),
        "metrics": {k: data.get(k) for k in ("bundle_top1", "bundle_answered_directly", "oos_precision",
                                              "oos_recall", "ask_back_rate")},
        "targets": data.get("targets", {}),  # scripts/evaluate.py writes them with the figures
        "counts": data.get("counts", {}),
        "rows": rows,
        "untested": [r for r in rows if r["cases"] == 0],
        "out_of_scope_errors": errors.get("out_of_scope", []),
        "ambiguous_errors": errors.get("ambiguous", []),
    }


def conversation_tests(results: Path) -> dict[str, Any] | None:
    """The latest `rasa test core` run: stories passed, and the failed stories as Rasa wrote them."""
    report = results / "conversations" / "story_report.json"
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    failed_path = results / "conversations" / "failed_test_stories.yml"
    failed_text = failed_path.read_text(encoding="utf-8") if failed_path.exists() else ""
    failed = [] if NO_FAILURES in failed_text else _story_names(failed_text)
    summary = data.get("conversation_accuracy", {})
    return {"when": _when(report), "correct": summary.get("correct"), "total": summary.get("total"),
            "accuracy": summary.get("accuracy"), "action_accuracy": data.get("accuracy"),
            "failed": failed, "failed_text": failed_text if failed else ""}


def _story_names(text: str) -> list[str]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        return ["（无法读取 failed_test_stories.yml）"]
    return [s.get("story", "?") for s in data.get("stories", []) if isinstance(s, dict)]


def write_state(results: Path, state: dict[str, Any]) -> None:
    """The run's state file, replaced atomically (the page may read it at any moment)."""
    tmp = results / f".{STATE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, results / STATE)


def run_state(results: Path) -> dict[str, Any] | None:
    """The last console run: who, when, each step; `running` only while its process is alive."""
    _children[:] = [child for child in _children if child.poll() is None]
    try:
        state = json.loads((results / STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    alive = state.get("finished") is None and _alive(state.get("pid"))
    state["running"] = alive
    if state.get("finished") is None and not alive:
        state["steps"] = {k: ("interrupted" if v in ("running", "waiting") else v) for k, v in state["steps"].items()}
    state["started_at"] = dt.datetime.fromtimestamp(state["started"]).strftime("%Y-%m-%d %H:%M:%S")
    log = results / LOG
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


def start(results: Path, by: str, model: Path, cases: Path, stories: Path) -> bool:
    """Start a run in the background unless one is running; False when one already is."""
    state = run_state(results)
    if state and state["running"]:
        return False
    results.mkdir(parents=True, exist_ok=True)
    child = subprocess.Popen([sys.executable, str(RUNNER), "--results", str(results), "--by", by, "--model", str(model),
                              "--cases", str(cases), "--stories", str(stories)],
                             cwd=PROJECT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    _children.append(child)
    # the run is visible (and a second click refused) before the child has even started Python
    write_state(results, {"pid": child.pid, "by": by, "started": time.time(), "finished": None,
                          "steps": {name: "waiting" for name in STEPS}})
    return True
