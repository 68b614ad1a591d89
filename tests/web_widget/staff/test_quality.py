"""The console's quality page over real result files: the evaluation as ops.evaluate writes it,
the conversation tests as `rasa test core` writes them."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from assistant.evaluation import evaluate
from catalogue import browse
from chattext import normalize
from web_widget.staff import jobs, quality


def parse(text: str, *ranking: tuple[str, float]) -> dict:
    return {"text": text, "intent": {"name": ranking[0][0], "confidence": ranking[0][1]},
            "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking]}


@pytest.fixture
def results(tmp_path, mini_records):
    """eval.json exactly as ops.evaluate main() writes it, and a failed conversation test."""
    cases = [{"kind": "bundle", "text": "开个铺子", "bundle": "shop"},
             {"kind": "bundle", "text": "铺子开张", "bundle": "shop"},
             {"kind": "bundle", "text": "我家娃", "bundle": "baby"},
             {"kind": "out_of_scope", "text": "护照咋办"},
             {"kind": "ambiguous", "text": "办个事", "candidates": ["shop", "baby"]}]
    parses = [parse("开个铺子", ("bundle_shop", 0.9)), parse("铺子开张", ("bundle_shop", 0.8)),
              parse("我家娃", ("bundle_shop", 0.6), ("bundle_baby", 0.3)),
              parse("护照咋办", ("bundle_baby", 0.7)),
              parse("办个事", ("nlu_fallback", 0.5), ("bundle_shop", 0.3), ("bundle_baby", 0.25))]
    result = evaluate(cases, parses, lambda text: browse.spot(mini_records, normalize(text)))
    result["cases"] = [{**c, "ranking": p["intent_ranking"]} for c, p in zip(cases, parses, strict=True)]
    blind = [{"kind": "bundle", "text": "娃儿上户口", "bundle": "baby", "style": "dialect"},
             {"kind": "bundle", "text": "open a shop", "bundle": "shop", "style": "english"},
             {"kind": "out_of_scope", "text": "开个护照", "style": "oos_shared_word", "near": "shop"}]
    result["blind"] = evaluate(blind, [parse("娃儿上户口", ("bundle_baby", 0.9)), parse("open a shop", ("nlu_fallback", 0.6)),
                                       parse("开个护照", ("bundle_shop", 0.8))],
                               lambda text: browse.spot(mini_records, normalize(text)))
    folder = tmp_path / "results"
    (folder / "conversations").mkdir(parents=True)
    (folder / "eval.json").write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    (folder / "conversations" / "story_report.json").write_text(json.dumps(
        {"accuracy": 0.95, "conversation_accuracy": {"accuracy": 0.9, "correct": 9, "with_warnings": 0, "total": 10}}))
    (folder / "conversations" / "failed_test_stories.yml").write_text(yaml.safe_dump(
        {"version": "3.1", "stories": [{"story": "switch bundle mid-talk (flows.yml)", "steps": []}]},
        allow_unicode=True), encoding="utf-8")
    return folder


@pytest.fixture
def staff_role() -> str:
    return "reviewer"  # runs the quality checks


@pytest.fixture
def client(console_app, tmp_path, results, logged_in):
    return logged_in(console_app(RESULTS_DIR=str(results), MODEL_PATH=str(tmp_path / "none.tar.gz")))


def test_per_bundle_rows_worst_first_with_the_misclassified_utterances(results, mini_records):
    table = quality.evaluation(results, mini_records["bundles"])
    assert [r["slug"] for r in table["rows"] if r["cases"]] == ["baby", "shop"]
    baby, shop = table["rows"][0], table["rows"][1]
    assert (baby["cases"], baby["top1"], baby["direct"]) == (1, 0, 0)
    assert baby["errors"][0]["text"] == "我家娃" and baby["errors"][0]["top"] == "shop"
    assert (shop["cases"], shop["top1"], shop["direct"], shop["errors"]) == (2, 2, 2, [])
    assert [e["text"] for e in table["out_of_scope_errors"]] == ["护照咋办"]
    assert table["metrics"]["bundle_top1"] == round(2 / 3, 4)


def test_the_page_shows_metrics_against_targets_and_failed_stories(client):
    html = client.get("/staff/quality").get_data(as_text=True)
    assert "66.7%" in html and "≥ 95.0%" in html  # top-1 below target
    assert "“我家娃” → 第一名 shop" in html
    assert "“护照咋办”" in html
    assert "9 / 10" in html and "switch bundle mid-talk (flows.yml)" in html
    assert "还没有训练好的模型" in html  # the run button is disabled without a model


def test_without_results_the_page_says_how_to_get_them(client, results):
    (results / "eval.json").unlink()
    (results / "conversations" / "story_report.json").unlink()
    html = client.get("/staff/quality").get_data(as_text=True)
    assert "make eval" in html and "make test" in html


def test_running_needs_csrf_and_a_model(client):
    assert client.post("/staff/quality/run").status_code == 400
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/staff/quality").get_data(as_text=True)).group(1)
    response = client.post("/staff/quality/run", data={"csrf": csrf}, follow_redirects=True)
    assert "还没有训练好的模型" in response.get_data(as_text=True)


def test_a_dead_run_is_shown_as_interrupted(results):
    (results / "quality-run.json").write_text(json.dumps(
        {"pid": 2 ** 22 + 12345, "by": "chen.jing", "started": 1_790_000_000, "finished": None,
         "steps": {"eval": "done", "conversations": "running"}}))
    state = jobs.run_state(results)
    assert state["running"] is False and state["steps"] == {"eval": "done", "conversations": "interrupted"}


def test_the_blind_set_per_style_on_the_page(client):
    page = client.get("/staff/quality").get_data(as_text=True)
    assert "盲测集（3 句" in page
    styles = page[page.index('id="per-style"'):]
    assert re.search(r"<td>四川话</td><td class=\"num\">1</td>\s*<td class=\"num\">100.0%</td>", styles)
    assert re.search(r"<td>英文</td><td class=\"num\">1</td>\s*<td class=\"num\">0.0%</td>", styles)
    header = styles[:styles.index("</thead>")]
    assert header.count('<th class="num">') == 1 + 8  # the count, then every metric of the set's own table
    english = re.search(r"<td>英文</td>(.*?)</tr>", styles, re.S).group(1)
    figures = re.findall(r'<td class="num">([^<]*)</td>', english)
    # one question, a bundle question that fell back: not answered, no uncovered question to judge precision by
    assert figures == ["1", "0.0%", "0.0%", "0.0%", "—", "—", "—", "—", "—"]
    assert "“开个护照”不属于任何一件事 → bundle（shop）" in page


def test_metrics_per_style_and_checklists_for_uncovered_questions(results):
    data = json.loads((results / "eval.json").read_text(encoding="utf-8"))["blind"]
    assert data["styles"]["dialect"]["bundle_answered_directly"] == 1.0
    assert data["styles"]["english"]["bundle_top1"] == 0.0
    assert data["oos_checklists"] == 1.0 and data["oos_recall"] == 0.0
