"""The console's 质量 button for real: web_widget.staff.jobs runs the evaluation and the conversation
tests on the trained model in the background, and the page reads what they wrote."""

from __future__ import annotations

import time

import yaml

from web_widget.staff import jobs, quality
from yishi import settings

MODEL = settings.path("YISHI_MODEL")
STORIES = settings.path("YISHI_CONVERSATION_STORIES")


def test_a_console_run_evaluates_and_replays_the_conversations(tmp_path):
    cases = tmp_path / "cases.yml"
    cases.write_text(yaml.safe_dump({
        "bundles": [{"text": "想开个健身房", "bundle": "gym"}, {"text": "娃儿刚出生要办啥子", "bundle": "newborn"}],
        "out_of_scope": ["明天会下雨吗"],
        "ambiguous": [{"text": "想开个店", "candidates": ["gym", "car_wash"]}]}, allow_unicode=True), encoding="utf-8")
    results = tmp_path / "results"
    assert jobs.start(results, "zhao.lei", MODEL, cases, STORIES)
    assert not jobs.start(results, "zhao.lei", MODEL, cases, STORIES)  # one at a time
    deadline = time.monotonic() + 400
    while (state := jobs.run_state(results)) is None or state["running"]:
        assert time.monotonic() < deadline, state
        time.sleep(1)
    assert state["by"] == "zhao.lei" and state["steps"] == {"eval": "done", "conversations": "done"}, state["log_tail"]
    table = quality.evaluation(results, {"gym": {"name": "我要开健身房"}, "newborn": {"name": "新生儿出生"}})
    assert table["counts"] == {"bundle": 2, "out_of_scope": 1, "ambiguous": 1}
    assert {r["slug"]: r["cases"] for r in table["rows"]} == {"gym": 1, "newborn": 1}
    replayed = quality.conversation_tests(results)
    assert replayed["total"] == replayed["correct"] == 10 and replayed["failed"] == []
