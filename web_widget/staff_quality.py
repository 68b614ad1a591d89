"""The console's quality page: the latest held-out evaluation and conversation tests, and a button to run both."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, flash, redirect, render_template, url_for

from . import quality
from .staff_auth import current_staff, login_required

bp = Blueprint("staff_quality", __name__, url_prefix="/staff/quality")


def _results() -> Path:
    return Path(current_app.config["RESULTS_DIR"])


@bp.get("")
@login_required
def page():
    try:
        bundles = current_app.extensions["catalogue"].records()["bundles"]
    except FileNotFoundError:
        bundles = {}
    return render_template("staff/quality.html", staff=current_staff(), run=quality.run_state(_results()),
                           evaluation=quality.evaluation(_results(), bundles),
                           conversations=quality.conversation_tests(_results()),
                           model_exists=Path(current_app.config["MODEL_PATH"]).exists())


@bp.post("/run")
@login_required
def run():
    config = current_app.config
    if not Path(config["MODEL_PATH"]).exists():
        flash("还没有训练好的模型（make model），无法运行测试。", "bad")
    elif quality.start(_results(), current_staff()["username"], Path(config["MODEL_PATH"]),
                       Path(config["EVAL_CASES"]), Path(config["CONVERSATION_STORIES"])):
        flash("已开始运行留出测试集和对话测试，大约需要一两分钟；本页会自动刷新。", "ok")
    else:
        flash("已经有一次测试在运行，请等它结束。", "warn")
    return redirect(url_for(".page"))
