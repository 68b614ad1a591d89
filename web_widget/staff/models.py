"""The console's 模型 section (issue 16, req 2): 训练新模型 in the background (retrain), the candidate beside the live
model (each metric of the held-out and blind sets, the coverage test, the conversation tests, per-bundle changes
and every utterance whose answer changed), 上线 and 回滚 (yishi.models), each recorded in the audit trail."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from assistant.evaluation import TARGETS
from yishi import models

from .. import store
from . import retrain
from .auth import current_staff
from .quality import conversation_tests

bp = Blueprint("models", __name__, url_prefix="/models")
SETS = (("heldout", "留出测试集"), ("blind", "盲写测试集"))
LABELS = {"bundle_top1": "首选正确率", "bundle_answered_directly": "直接给出正确清单", "oos_precision": "范围外判断准确率",
          "oos_recall": "范围外识别率", "ask_back_rate": "含糊问题反问率", "ask_back_relevant": "反问候选都相关",
          "coverage": "事项名称问法（golden routes）", "conversations": "对话测试通过"}


def _results() -> Path:
    return Path(current_app.config["RESULTS_DIR"])


def _load(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / "eval.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return {"heldout": data, "blind": data.get("blind"), "coverage": (data.get("coverage") or {}).get("routed"),
            "conversations": conversation_tests(folder)}


def _answer(case: dict[str, Any]) -> str:
    decision, offered = case.get("decision"), case.get("offered") or []
    if decision == "bundle":
        return f"清单：{offered[0]}" if offered else "清单"
    if decision == "clarify":
        return "反问：" + "、".join(offered)
    if decision == "fallback":
        return "不属于办理范围"
    return f"其他回答（{case.get('intent') or '—'}）"


def _right(case: dict[str, Any]) -> bool:
    if case.get("kind") == "bundle":
        accept = set(case.get("bundles") or [case.get("bundle")])
        return case.get("decision") == "bundle" and bool(case.get("offered")) and case["offered"][0] in accept
    if case.get("kind") == "out_of_scope":
        return case.get("decision") != "bundle" and case.get("decision") != "clarify"
    return case.get("decision") == "clarify"


def compare(live: dict[str, Any], candidate: dict[str, Any]) -> dict[str, Any]:
    """The candidate beside the live model: every target metric per set (and whether it got worse), the coverage
    test, the conversation tests, the bundles whose right answers changed, and every utterance answered otherwise."""
    rows, worse = [], []
    for key, name in SETS:
        before, after = live.get(key) or {}, candidate.get(key) or {}
        for metric in TARGETS:
            a, b = before.get(metric), after.get(metric)
            got_worse = a is not None and b is not None and b < a
            rows.append({"set": name, "metric": LABELS.get(metric, metric), "live": a, "candidate": b,
                         "target": TARGETS[metric], "worse": got_worse})
            if got_worse:
                worse.append(f"{name}·{LABELS.get(metric, metric)}")
    a, b = live.get("coverage"), candidate.get("coverage")
    rows.append({"set": "事项覆盖", "metric": LABELS["coverage"], "live": a, "candidate": b, "target": None,
                 "worse": a is not None and b is not None and b < a})
    if rows[-1]["worse"]:
        worse.append(LABELS["coverage"])
    lc, cc = live.get("conversations") or {}, candidate.get("conversations") or {}
    rows.append({"set": "对话测试", "metric": LABELS["conversations"], "live": lc.get("accuracy"),
                 "candidate": cc.get("accuracy"), "target": 1.0,
                 "worse": (cc.get("correct") or 0) < (lc.get("correct") or 0)})
    if rows[-1]["worse"]:
        worse.append(LABELS["conversations"])
    changed, per_bundle = [], {"live": Counter(), "candidate": Counter()}
    for key, name in SETS:
        before = {(c["text"], c.get("kind")): c for c in (live.get(key) or {}).get("cases", [])}
        for case in (candidate.get(key) or {}).get("cases", []):
            old = before.get((case["text"], case.get("kind")))
            if case.get("kind") == "bundle":
                per_bundle["candidate"][case["bundle"]] += _right(case)
                if old is not None:
                    per_bundle["live"][case["bundle"]] += _right(old)
            if old is not None and (old.get("decision"), old.get("offered")) != (case.get("decision"), case.get("offered")):
                expected = case.get("bundle") if case.get("kind") == "bundle" else \
                    {"out_of_scope": "范围外", "ambiguous": "应反问"}.get(case.get("kind"), case.get("kind"))
                changed.append({"set": name, "text": case["text"], "expected": expected, "live": _answer(old),
                                "candidate": _answer(case), "better": _right(case) and not _right(old),
                                "worse": _right(old) and not _right(case)})
    bundles = sorted(({"bundle": slug, "live": per_bundle["live"][slug], "candidate": per_bundle["candidate"][slug]}
                      for slug in set(per_bundle["live"]) | set(per_bundle["candidate"])
                      if per_bundle["live"][slug] != per_bundle["candidate"][slug]),
                     key=lambda r: (r["candidate"] - r["live"], r["bundle"]))
    changed.sort(key=lambda c: (not c["worse"], not c["better"], c["set"], c["text"]))
    return {"rows": rows, "worse": worse, "bundles": bundles, "changed": changed}


def _comparison() -> tuple[models.Model | None, models.Model | None, dict[str, Any] | None]:
    live, candidate = models.live(), models.candidate()
    if candidate is not None and live is not None and candidate.digest == live.digest:
        candidate = None  # it went live: nothing to compare or make live again
    if live is None or candidate is None:
        return live, candidate, None
    a, b = _load(retrain.results_of(_results(), live.digest)), _load(retrain.results_of(_results(), candidate.digest))
    return live, candidate, (compare(a, b) if a and b else None)


@bp.get("")
def page():
    live, candidate, comparison = _comparison()
    names = {slug: b.get("name", slug) for slug, b in _bundles().items()}
    return render_template("staff/models.html", live=live, candidate=candidate, comparison=comparison,
                           run=retrain.state(_results()), history=models.history(), names=names)


def _bundles() -> dict[str, Any]:
    try:
        return current_app.extensions["catalogue"].records()["bundles"]
    except FileNotFoundError:
        return {}


@bp.post("/train")
def train():
    username = current_staff()["username"]
    with store.writing("yishi-jobs"):  # two clicks on two workers: one run
        started = retrain.start(_results(), username)
    if started:
        store.audit(username, "retrain", "model:candidate", "开始训练新模型")
        flash("已开始训练新模型，训练和测试大约需要十分钟；本页会自动刷新。", "ok")
    else:
        flash("已经有训练或测试在运行，请等它结束。", "warn")
    return redirect(url_for(".page"))


@bp.post("/promote")
def promote():
    username = current_staff()["username"]
    live, candidate, comparison = _comparison()
    reason = (request.form.get("reason") or "").strip()[:500]
    if candidate is None or comparison is None or request.form.get("digest") != candidate.digest:
        flash("没有可上线的新模型，或它还没测完（或页面已过期，请刷新）。", "bad")
        return redirect(url_for(".page"))
    if comparison["worse"] and not reason:
        flash("新模型有指标变差（" + "、".join(comparison["worse"]) + "）：如仍要上线，请写明理由。", "bad")
        return redirect(url_for(".page"))
    figures = {r["set"] + "·" + r["metric"]: r["candidate"] for r in comparison["rows"]}
    store.release()  # loading into every Rasa server takes a while
    try:
        done = models.go_live(candidate.path, username, reason or "各项指标都没有变差", figures)
    except models.LoadFailed as exc:
        store.audit(username, "go_live_failed", f"model:{candidate.digest}", str(exc))
        flash(f"上线没有成功，已换回原来的模型：{exc}", "bad")
        return redirect(url_for(".page"))
    store.audit(username, "go_live", f"model:{done['after']}", f"新模型已上线（{len(done['servers'])} 台 Rasa 服务器）",
                before={"model": done["before"]}, after={"model": done["after"], "reason": reason or None,
                                                        "worse": comparison["worse"]})
    flash(f"新模型 {done['after']} 已上线：{len(done['servers'])} 台 Rasa 服务器都已换用，对话没有中断。", "ok")
    return redirect(url_for(".page"))


@bp.post("/rollback")
def rollback():
    username = current_staff()["username"]
    chosen = next((m for m in models.history() if m.path.name == request.form.get("model")), None)
    if chosen is None:
        flash("找不到要回滚到的模型（可能已被清理）。", "bad")
        return redirect(url_for(".page"))
    reason = (request.form.get("reason") or "").strip()[:500] or "回滚"
    store.release()
    try:
        done = models.go_live(chosen.path, username, reason, chosen.meta.get("figures"))
    except models.LoadFailed as exc:
        store.audit(username, "roll_back_failed", f"model:{chosen.digest}", str(exc))
        flash(f"回滚没有成功，已换回原来的模型：{exc}", "bad")
        return redirect(url_for(".page"))
    store.audit(username, "roll_back", f"model:{done['after']}", f"回滚到 {chosen.built_at} 的模型",
                before={"model": done["before"]}, after={"model": done["after"], "reason": reason})
    flash(f"已回滚到模型 {done['after']}（{chosen.built_at}）。", "ok")
    return redirect(url_for(".page"))
