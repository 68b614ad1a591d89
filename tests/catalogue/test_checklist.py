"""The checklist computation on the tiny fixture catalogue."""

from __future__ import annotations

import pytest

from catalogue.checklist import BadAnswer, UnknownBundle, checklist, condition_state, longest_chain


def by_id(result: dict, kind: str) -> dict:
    return {entry["id"]: entry for entry in result[kind]}


def test_condition_state():
    assert condition_state({}, {}) == "yes"
    assert condition_state({"size": ["large"]}, {}) == "unknown"
    assert condition_state({"size": ["large"]}, {"size": "large"}) == "yes"
    assert condition_state({"size": ["large"], "agent": ["yes"]}, {"size": "small"}) == "no"
    assert condition_state({"size": ["large"], "agent": ["yes"]}, {"size": "large"}) == "unknown"


def test_no_answers_keeps_everything_marked_if_applicable(mini_records):
    result = checklist(mini_records, "shop")
    items = by_id(result, "items")
    assert list(items) == ["register", "fire_check", "health_permit"]
    assert [items[i]["if_applicable"] for i in items] == [False, True, True]
    materials = by_id(result, "materials")
    assert list(materials) == ["one_form", "id_card", "lease", "letter", "licence", "plan", "water_report"]
    assert {m: materials[m]["if_applicable"] for m in materials} == {
        "one_form": False, "id_card": False, "lease": False, "letter": True,
        "licence": True, "plan": True, "water_report": True,
    }


def test_materials_are_deduplicated_across_items(mini_records):
    materials = by_id(checklist(mini_records, "shop"), "materials")
    assert materials["lease"]["items"] == ["register", "fire_check"]
    assert (materials["lease"]["originals"], materials["lease"]["copies"]) == (2, 1)
    assert materials["plan"]["items"] == ["fire_check", "health_permit"]


def test_forms_merge_into_the_bundle_form(mini_records):
    materials = by_id(checklist(mini_records, "shop"), "materials")
    assert "reg_form" not in materials and "fire_form" not in materials
    assert materials["one_form"]["items"] == ["register", "fire_check"]
    assert materials["one_form"]["skip"] == "system"


def test_skip_reasons(mini_records):
    materials = by_id(checklist(mini_records, "shop"), "materials")
    assert materials["licence"]["skip"] == "bundle_result"
    assert "设立登记" in materials["licence"]["skip_reason"]
    assert materials["id_card"]["skip"] == "shared"
    assert materials["lease"]["skip"] is None


def test_before_and_after_with_no_answers(mini_records):
    result = checklist(mini_records, "shop")
    assert result["before"] == {"materials": 11, "working_days": 20, "departments": 3, "visits": 3, "steps": 11}
    assert result["after"] == {"materials": 7, "working_days": 20, "departments": 3, "visits": 1, "steps": 2}
    assert result["saving"] == {"materials": 4, "working_days": 0, "visits": 2, "steps": 9}


def test_answers_switch_items_and_materials_off(mini_records):
    result = checklist(mini_records, "shop", {"size": "large", "pool": "no", "agent": "no"})
    assert list(by_id(result, "materials")) == ["one_form", "id_card", "lease", "licence", "plan"]
    assert result["before"]["materials"] == 9
    small = checklist(mini_records, "shop", {"size": "small"})
    assert list(by_id(small, "items")) == ["register"]
    assert small["before"] == {"materials": 4, "working_days": 3, "departments": 1, "visits": 1, "steps": 4}
    assert small["after"]["materials"] == 4


def test_only_questions_that_change_the_list_are_relevant(mini_records):
    def relevant(answers):
        return [q["key"] for q in checklist(mini_records, "shop", answers)["questions"] if q["relevant"]]

    assert relevant({}) == ["size", "agent"]  # pool waits until size is large
    assert relevant({"size": "large"}) == ["pool", "agent"]
    assert relevant({"size": "small"}) == ["agent"]
    assert relevant({"size": "small", "agent": "no"}) == []


def test_longest_chain_follows_prerequisites(mini_records):
    assert longest_chain(mini_records, ["register", "fire_check", "health_permit"]) == 20
    mini_records["items"]["health_permit"]["requires"] = ["register"]
    assert longest_chain(mini_records, ["register", "fire_check", "health_permit"]) == 13
    assert longest_chain(mini_records, ["fire_check", "health_permit"]) == 10  # register not in the bundle


def test_fully_online_bundle_needs_no_visit(mini_records):
    result = checklist(mini_records, "baby")
    assert result["before"]["visits"] == 1  # at least one per department
    assert result["after"]["visits"] == 0


def test_bad_answers_and_unknown_bundles(mini_records):
    with pytest.raises(UnknownBundle):
        checklist(mini_records, "nope")
    with pytest.raises(BadAnswer, match="没有“huge”这个选项"):
        checklist(mini_records, "shop", {"size": "huge"})
    with pytest.raises(BadAnswer, match="没有“colour”这个问题"):
        checklist(mini_records, "shop", {"colour": "red"})


def test_checklist_carries_provenance_and_notice(mini_records):
    result = checklist(mini_records, "shop")
    assert result["checked"] == "2026-02-01"
    assert result["sources"] == ["test"]
    assert result["notice"] == "本清单仅供参考，以窗口最新要求为准。"
    assert [c["id"] for c in result["channels"]] == ["window", "web"]


def test_hand_in_keeps_a_shared_material_on_paper(mini_records):
    mini_records["items"]["register"]["materials"][1]["hand_in"] = True  # id_card, usually shared
    materials = by_id(checklist(mini_records, "shop"), "materials")
    assert (materials["id_card"]["skip"], materials["id_card"]["skip_reason"]) == (None, None)
