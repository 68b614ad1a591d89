"""Staff console, demand: questions per bundle per day and week, the share of fallbacks, and the
unmatched questions grouped by wording. Charts are inline SVG drawn here (the CSP allows no scripts)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request

from yishi import retention

from .. import ratings, store
from ..marks import json_api
from . import demand_stats, tracker
from .names import bundle_names
from .tracker import TrackerMissing

bp = Blueprint("demand", __name__)
_cache_lock = threading.Lock()
CHART_HEIGHT, CHART_TOP, CHART_BOTTOM, SLOT = 160, 14, 20, 24


def _report() -> dict[str, Any]:
    """The figures for the requested range, computed at most once per DEMAND_CACHE_S in each worker: a
    tab left reloading must not take the CPU citizens' chats need (console_bench)."""
    args = request.args
    start, end, problem = tracker.date_range(args.get("start"), args.get("end"))
    cache: dict[tuple, tuple[float, dict[str, Any]]] = current_app.extensions.setdefault("demand_reports", {})
    with _cache_lock:
        kept = cache.get((start, end))
    if kept is None or time.monotonic() - kept[0] >= current_app.config["DEMAND_CACHE_S"]:
        kept = (time.monotonic(), _compute(start, end))
        with _cache_lock:
            if len(cache) >= 32:
                cache.clear()
            cache[(start, end)] = kept
    return {**kept[1], "problem": problem}


def _compute(start, end) -> dict[str, Any]:
    try:
        questions = tracker.questions(current_app.config["TRACKER_DB"], start, end)
        have_tracker = True
    except TrackerMissing:
        questions, have_tracker = [], False
    unanswered = store.unanswered_between(*tracker.bounds(start, end))
    # the figures of conversations deleted after YISHI_RETENTION_DAYS, kept per day (yishi/retention.py)
    kept = retention.daily(current_app.config["TRACKER_DB"], start.isoformat(), end.isoformat())
    days, weeks = demand_stats.days(questions, start, end, kept), demand_stats.weeks(questions, start, end, kept)
    texts = [text for _, text in demand_stats.unmatched_texts(questions, unanswered)]
    rated = store.rating_counts(*tracker.bounds(start, end))  # 好差评 (web_widget.ratings)
    return {"start": start, "end": end, "tracker": have_tracker, "days": days, "weeks": weeks,
            "bundles": demand_stats.per_bundle(days, weeks), "groups": demand_stats.group(texts), "unmatched": len(texts),
            "total": sum(d.total for d in days), "fallback": sum(d.fallback for d in days),
            "as_of": tracker.local(time.time()), "cache_s": current_app.config["DEMAND_CACHE_S"],
            "rating_weeks": ratings.per_week(rated, start, end), "rating_bundles": ratings.per_bundle(rated)}


@bp.get("/demand")
def demand_page():
    report = _report()
    return render_template("staff/demand.html", names=bundle_names(), levels=ratings.LEVELS, **report,
                           day_chart=bar_chart(report["days"], lambda p: f"{p.start.month}/{p.start.day}"),
                           week_chart=bar_chart(report["weeks"], lambda p: f"{p.start.month}/{p.start.day}起", slot=56),
                           spark=spark)


@bp.get("/api/demand")
@json_api
def demand_api():
    report = _report()

    def period(p: demand_stats.Period) -> dict[str, Any]:
        return {"start": p.start.isoformat(), "end": p.end.isoformat(), "total": p.total, "fallback": p.fallback,
                "clarify": p.clarify, "other": p.other, "fallback_share": round(p.fallback_share, 4),
                "bundles": dict(sorted(p.bundles.items()))}

    return jsonify(start=report["start"].isoformat(), end=report["end"].isoformat(), tracker=report["tracker"],
                   as_of=report["as_of"].isoformat(timespec="seconds"),
                   days=[period(p) for p in report["days"]], weeks=[period(p) for p in report["weeks"]],
                   bundles=report["bundles"],
                   satisfaction={"weeks": [_tally(t) | {"start": t.key.isoformat()} for t in report["rating_weeks"]],
                                 "bundles": [_tally(t) | {"bundle": t.key} for t in report["rating_bundles"]]},
                   unmatched=[{"text": g.representative, "count": g.count, "examples": [t for t, _ in g.examples]}
                              for g in report["groups"]])


def _tally(tally: ratings.Tally) -> dict[str, Any]:
    return {"counts": {ratings.LEVELS[level]: tally.counts[level] for level in ratings.LEVELS}, "total": tally.total,
            "satisfaction": None if tally.rate is None else round(tally.rate, 4)}


def bar_chart(periods: list[demand_stats.Period], label: Callable[[demand_stats.Period], str], slot: int = SLOT) -> dict[str, Any]:
    """SVG geometry: one bar per period (all questions), its fallbacks in a second bar drawn over it."""
    top = max([p.total for p in periods] + [1])
    plot = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    every = max(1, len(periods) // 10)  # at most ~10 labels under the bars
    bars = []
    for i, p in enumerate(periods):
        height, fallback = round(plot * p.total / top, 1), round(plot * p.fallback / top, 1)
        base = CHART_TOP + plot
        bars.append({"x": 30 + i * slot, "width": slot - 6, "y": base - height, "height": height,
                     "fallback_y": base - fallback, "fallback_height": fallback,
                     "label": label(p) if i % every == 0 else "", "total": p.total,
                     "title": f"{p.start.isoformat()}{'' if p.start == p.end else ' 至 ' + p.end.isoformat()}："
                              f"{p.total} 个问题，兜底 {p.fallback} 个（{p.fallback_share:.0%}）"})
    return {"width": 40 + len(periods) * slot, "height": CHART_HEIGHT, "top": top, "base": CHART_TOP + plot,
            "bars": bars}


def spark(values: list[int]) -> dict[str, Any]:
    """A small bar chart of one bundle's questions per day."""
    top = max(values + [1])
    return {"width": 3 * len(values), "bars": [{"x": 3 * i, "height": round(20 * v / top, 1), "value": v}
                                               for i, v in enumerate(values)]}

