"""The console's quality page: the latest held-out evaluation per bundle, the latest conversation tests,
and a button to run both in the background (jobs)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import yaml
from flask import Blueprint, current_app, flash, redirect, render_template, url_for

from catalogue import workdays

from .. import ratings, store
from . import jobs, tracker
from .auth import current_staff
from .names import bundle_names

bp = Blueprint("quality", __name__, url_prefix="/quality")
NO_FAILURES = "None of the test stories failed"
METRICS = ("bundle_top1", "bundle_answered_directly", "bundle_answered_or_asked_rightly", "oos_precision",
           "oos_recall", "oos_checklists", "ask_back_rate", "ask_back_relevant")


def _results() -> Path:
    return Path(current_app.config["RESULTS_DIR"])


@bp.get("")
def page():
    try:
        bundles = current_app.extensions["catalogue"].records()["bundles"]
    except FileNotFoundError:
        bundles = {}
    return render_template("staff/quality.html", run=jobs.run_state(_results()),
                           evaluation=evaluation(_results(), bundles),
                           conversations=conversation_tests(_results()),
                           model_exists=Path(current_app.config["MODEL_PATH"]).exists(),
                           satisfaction=satisfaction(), levels=ratings.LEVELS, names=bundle_names(), rating_weeks=RATING_WEEKS)


RATING_WEEKS = 12


def satisfaction() -> list[ratings.Tally]:
    """Citizens' ratings per bundle over the last RATING_WEEKS weeks (好差评), the lowest satisfaction first."""
    end = workdays.today()
    return ratings.per_bundle(store.rating_counts(*tracker.bounds(end - dt.timedelta(7 * RATING_WEEKS - 1), end)))


@bp.post("/run")
def run():
    config = current_app.config
    if not Path(config["MODEL_PATH"]).exists():
        flash("还没有训练好的模型（make model），无法运行测试。", "bad")
    elif jobs.start(_results(), current_staff()["username"], Path(config["MODEL_PATH"]),
                       Path(config["EVAL_CASES"]), Path(config["CONVERSATION_STORIES"])):
        flash("已开始运行留出测试集和对话测试，大约需要一两分钟；本页会自动刷新。", "ok")
    else:
        flash("已经有一次测试在运行，请等它结束。", "warn")
    return redirect(url_for(".page"))


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
        "metrics": {k: data.get(k) for k in METRICS},
        "targets": data.get("targets", {}),  # ops.evaluate writes them with the figures
        "counts": data.get("counts", {}),
        "rows": rows,
        "untested": [r for r in rows if r["cases"] == 0],
        "out_of_scope_errors": errors.get("out_of_scope", []),
        "ambiguous_errors": errors.get("ambiguous", []),
        "styles": data.get("styles", {}),
        "blind": _blind(data.get("blind")),
    }


def _blind(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """The blind set's figures: the metrics, per style tag, and its wrong answers grouped as written."""
    if not data:
        return None
    errors = data.get("errors", {})
    return {"metrics": {k: data.get(k) for k in METRICS}, "counts": data.get("counts", {}),
            "styles": data.get("styles", {}),
            "bundle_errors": [e | {"bundle": slug} for slug, errs in errors.items()
                              if slug not in ("out_of_scope", "ambiguous") for e in errs],
            "out_of_scope_errors": errors.get("out_of_scope", []), "ambiguous_errors": errors.get("ambiguous", [])}


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
