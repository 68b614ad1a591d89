"""Rasa training data generated from the catalogue."""

from __future__ import annotations

import yaml

from assistant import intents, training


def test_intents_examples_and_rules_for_every_bundle(mini_records):
    files = training.generate(mini_records)
    assert files["domain/bundles.yml"] == {"version": "3.1", "intents": ["bundle_shop", "bundle_baby"]}
    rules = files["data/bundle_rules.yml"]["rules"]
    assert rules[0] == {"rule": "bundle shop", "steps": [{"intent": "bundle_shop"}, {"action": "action_show_bundle"}]}
    nlu = {block["intent"]: block["examples"].splitlines() for block in files["data/bundles.yml"]["nlu"]}
    assert nlu["bundle_shop"][:3] == ["- 我要开小店", "- 开小店", "- 开个铺子"]
    assert len(nlu["bundle_shop"]) == len(set(nlu["bundle_shop"])) == 3 + 16
    assert any("开个铺子" in e and e != "- 开个铺子" for e in nlu["bundle_shop"])  # templated phrasings


def test_generation_is_reproducible(mini_records):
    assert training.generate(mini_records) == training.generate(mini_records)


def test_short_name_and_slug_of():
    assert training.short_name("我要开健身房") == "开健身房"
    assert training.short_name("结婚登记一件事（婚育/结婚落户）") == "结婚登记"
    assert intents.slug_of("bundle_gym") == "gym" and intents.slug_of("greet") is None and intents.slug_of(None) is None


def test_written_files_keep_their_time_when_unchanged(mini_records, tmp_path):
    domain = tmp_path / "domain.yml"
    domain.write_text("version: '3.1'\n", encoding="utf-8")
    first = training.write(mini_records, tmp_path / "rasa", domain)
    stamps = {p: p.stat().st_mtime_ns for p in first}
    second = training.write(mini_records, tmp_path / "rasa", domain)
    assert {p: p.stat().st_mtime_ns for p in second} == stamps
    data = yaml.safe_load((tmp_path / "rasa" / "data" / "bundles.yml").read_text(encoding="utf-8"))
    assert data["nlu"][0]["examples"].startswith("- 我要开小店\n")


def test_no_training_example_is_a_held_out_text():
    """The held-out and blind sets (evaluation/) are never trained on: no file in nlu_data/ holds one of their texts."""
    from pathlib import Path

    import yaml

    from assistant.evaluation import load_cases
    from yishi import settings

    held = {case["text"].strip().lower() for case in load_cases(settings.path("YISHI_EVAL_CASES").parent)}
    trained = set()
    for path in settings.path("YISHI_NLU_DATA").glob("*.yml"):
        for block in (yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}).get("nlu") or []:
            trained |= {line.strip()[2:].strip().lower() for line in (block.get("examples") or "").splitlines()
                        if line.strip().startswith("- ")}
    assert len(held) > 900 and trained and not held & trained, sorted(held & trained)[:10]


def test_a_customer_s_questions_about_a_place_a_bundle_opens_are_trained_as_out_of_scope(mini_records):
    """健身房几点关门 shares the gym's word but is no bundle's business (issue 11, hard negatives): generated
    from each business bundle's own names for its place, never from the act of opening one (开小店)."""
    import copy

    assert training.places(mini_records["bundles"]["shop"]) == []  # 开小店, 开个铺子: acts, no place
    assert all(block["intent"] != "out_of_scope" for block in training.generate(mini_records)["data/bundles.yml"]["nlu"])
    records = copy.deepcopy(mini_records)
    records["bundles"]["shop"]["aliases"] += ["小店", "小店营业执照", "baby店"]
    assert training.places(records["bundles"]["shop"]) == ["小店"]
    assert training.places(records["bundles"]["baby"]) == []  # opens no place
    nlu = {b["intent"]: b["examples"].splitlines() for b in training.generate(records)["data/bundles.yml"]["nlu"]}
    assert len(nlu["out_of_scope"]) == 6 and all("小店" in line for line in nlu["out_of_scope"])
