"""The console's 模型 section: the candidate beside the live model, 上线 refused when a target metric got worse
without a reason, a failed 上线 puts the previous model back, and the model history (issue 16, req 2). Training and
loading into real Rasa servers: tests/e2e/test_retrain.py."""

from __future__ import annotations

import json

import pytest

from ops.stack import free_port
from web_widget import store
from web_widget.staff import models as page
from web_widget.staff import retrain
from yishi import models


@pytest.fixture
def staff_role() -> str:
    return "审核员"  # trains, makes live and rolls back


def case(text: str, kind: str, decision: str, offered: list[str], bundle: str | None = None) -> dict:
    return {"text": text, "kind": kind, "decision": decision, "offered": offered, "intent": None,
            **({"bundle": bundle} if bundle else {})}


def evaluation(top1: float, cases: list[dict]) -> dict:
    metrics = {"bundle_top1": top1, "bundle_answered_directly": 0.9, "oos_precision": 0.9, "oos_recall": 0.9,
               "ask_back_rate": 0.5, "ask_back_relevant": 1.0}
    return {**metrics, "cases": cases, "blind": {**metrics, "cases": []}, "coverage": {"routed": 0.8}}


LIVE = evaluation(0.97, [case("想开健身房", "bundle", "bundle", ["gym"], "gym"),
                         case("护照怎么办", "out_of_scope", "bundle", ["shop"]),
                         case("开个店", "bundle", "bundle", ["shop"], "shop")])
BETTER = evaluation(0.98, [case("想开健身房", "bundle", "bundle", ["gym"], "gym"),
                           case("护照怎么办", "out_of_scope", "fallback", []),
                           case("开个店", "bundle", "clarify", ["shop", "gym"], "shop")])


def test_the_comparison_lists_metrics_bundles_and_every_changed_answer():
    result = page.compare(page_data(LIVE), page_data(BETTER))
    assert result["worse"] == []
    top1 = next(r for r in result["rows"] if r["set"] == "留出测试集" and r["metric"] == "首选正确率")
    assert (top1["live"], top1["candidate"]) == (0.97, 0.98)
    assert [(c["text"], c["live"], c["candidate"], c["better"], c["worse"]) for c in result["changed"]] == [
        ("开个店", "清单：shop", "反问：shop、gym", False, True), ("护照怎么办", "清单：shop", "不属于办理范围", True, False)]
    assert result["bundles"] == [{"bundle": "shop", "live": 1, "candidate": 0}]
    worse = page.compare(page_data(BETTER), page_data(LIVE))
    assert worse["worse"] == ["留出测试集·首选正确率", "盲写测试集·首选正确率"]


def page_data(data: dict) -> dict:
    return {"heldout": data, "blind": data["blind"], "coverage": data["coverage"]["routed"],
            "conversations": {"correct": 3, "total": 3, "accuracy": 1.0}}


@pytest.fixture
def model_files(tmp_path, monkeypatch):
    """A live model and a candidate (files: the registry never opens them), their results, no Rasa server up."""
    monkeypatch.setenv("YISHI_MODEL", str(tmp_path / "models" / "yishi.tar.gz"))
    monkeypatch.setenv("YISHI_RASA_SERVER_URLS", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("YISHI_RASA_JWT_SECRET", "a-test-secret-of-at-least-32-bytes!")
    (tmp_path / "models" / "candidate").mkdir(parents=True)
    models.live_path().write_bytes(b"the live model")
    (models.candidate_dir() / models.CANDIDATE).write_bytes(b"a candidate model")
    results = tmp_path / "results"
    for model, data in ((models.live_path(), LIVE), (models.candidate_dir() / models.CANDIDATE, BETTER)):
        folder = retrain.results_of(results, models.digest(model))
        (folder / "conversations").mkdir(parents=True)
        (folder / "eval.json").write_text(json.dumps(data), encoding="utf-8")
        (folder / "conversations" / "story_report.json").write_text(
            json.dumps({"conversation_accuracy": {"correct": 3, "total": 3, "accuracy": 1.0}}), encoding="utf-8")
    return results


def test_a_failed_go_live_puts_the_previous_model_back(model_files):
    before = models.live().digest
    with pytest.raises(models.LoadFailed, match="没有响应"):
        models.go_live(models.candidate().path, "wang.li", "测试")
    assert models.live().digest == before
    assert [m.digest for m in models.history()] == [before]  # kept for 回滚 all the same


def test_the_page_shows_the_comparison_and_go_live_needs_a_reason_when_a_metric_got_worse(model_files, console_app,
                                                                                          logged_in):
    app = console_app(RESULTS_DIR=str(model_files))
    client = logged_in(app)
    html = client.get("/staff/models").get_data(as_text=True)
    assert "护照怎么办" in html and "变好" in html and "没有指标变差，可以上线" in html
    csrf = html.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    # swap the results: the candidate is now the worse one
    live, candidate = models.live().digest, models.candidate().digest
    (retrain.results_of(model_files, candidate) / "eval.json").write_text(json.dumps(LIVE), encoding="utf-8")
    (retrain.results_of(model_files, live) / "eval.json").write_text(json.dumps(BETTER), encoding="utf-8")
    refused = client.post("/staff/models/promote", data={"csrf": csrf, "digest": candidate}, follow_redirects=True)
    assert "请写明理由" in refused.get_data(as_text=True) and models.live().digest == live
    failed = client.post("/staff/models/promote", data={"csrf": csrf, "digest": candidate, "reason": "急需新名称"},
                         follow_redirects=True)
    assert "上线没有成功" in failed.get_data(as_text=True) and models.live().digest == live
    with app.app_context():
        assert store.audit_log()[0]["action"] == "go_live_failed"


def test_training_is_refused_while_a_run_is_going(model_files, console_app, logged_in, tmp_path):
    from web_widget.staff import jobs

    app = console_app(RESULTS_DIR=str(model_files))
    client = logged_in(app)
    csrf = client.get("/staff/models").get_data(as_text=True).split('name="csrf" value="', 1)[1].split('"', 1)[0]
    jobs.write_state(model_files, {"pid": __import__("os").getpid(), "by": "li.na", "started": 0, "finished": None,
                                   "steps": {"eval": "running"}})  # this very process stands for a running quality run
    answer = client.post("/staff/models/train", data={"csrf": csrf}, follow_redirects=True).get_data(as_text=True)
    assert "已经有训练或测试在运行" in answer and retrain.state(model_files) is None


def test_a_candidate_that_went_live_is_not_offered_again(model_files, console_app, logged_in):
    import shutil

    shutil.copy2(models.candidate().path, models.live_path())  # as go_live leaves them
    html = logged_in(console_app(RESULTS_DIR=str(model_files))).get("/staff/models").get_data(as_text=True)
    assert 'id="promote"' not in html and 'id="comparison"' not in html and "现用模型" in html
