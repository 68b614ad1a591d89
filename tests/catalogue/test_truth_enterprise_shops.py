"""Data tests for the enterprise_shops source pass: the catalogue agrees with the cited sources.

Each test reads the real sources and would have failed before the content pass (issue 10).
"""

from __future__ import annotations

import pytest

from catalogue import config
from catalogue.build import check

# Bundles that are 公众聚集场所 in the sense of 消防法第七十三条 (饭店, 商场/超市, 营业性健身场所).
PUBLIC_GATHERING = ("restaurant", "supermarket", "gym")
SHOPS = ("food_store", "retail_store", "clothing_store", "bookstore", "pharmacy")
AREA_KEYS = {"venue_area", "supermarket_area"}


@pytest.fixture(scope="module")
def records() -> dict:
    return check(config.sources_dir()).catalogue.records


def _entry(bundle: dict, item_id: str) -> dict | None:
    return next((e for e in bundle["items"] if e["item"] == item_id), None)


def test_fire_check_is_unconditional_for_public_gathering_bundles(records):
    for slug in PUBLIC_GATHERING:
        entry = _entry(records["bundles"][slug], "fire_safety_inspection")
        assert entry is not None and entry["when"] == {}, slug


def test_no_bundle_of_the_group_keys_the_fire_check_on_area(records):
    for slug in PUBLIC_GATHERING + SHOPS:
        entry = _entry(records["bundles"][slug], "fire_safety_inspection")
        assert entry is not None, slug
        assert not AREA_KEYS & set(entry["when"]), slug


def test_shops_key_the_fire_check_on_the_kind_of_place(records):
    assert records["questions"]["public_gathering"]["cites"] == ["cn_fire_law_art73", "cn_fire_law_art15"]
    for slug in SHOPS:
        assert _entry(records["bundles"][slug], "fire_safety_inspection")["when"] == {"public_gathering": ["yes"]}, slug


def test_fire_item_rests_on_the_fire_law(records):
    item = records["items"]["fire_safety_inspection"]
    assert {"cn_fire_law_art15", "cn_fire_law_art73"} <= set(item["cites"])
    assert item["region"] == "国家"
    assert not AREA_KEYS & set(records["questions"])  # no floor-area question is left to decide it


def test_restaurant_has_the_health_certificate_item(records):
    bundle = records["bundles"]["restaurant"]
    entry = _entry(bundle, "food_staff_health_check")
    assert entry is not None and entry["when"] == {}
    item = records["items"]["food_staff_health_check"]
    assert "预防性体检" in item["name"]
    assert item["result_material"] == "staff_health_certificates"
    assert item["region"] == "推断"  # no published time limit was found
    assert "sc_restaurant_news_2024" in item["cites"]


def test_restaurant_drops_drainage_and_keeps_sichuan_promise(records):
    bundle = records["bundles"]["restaurant"]
    assert _entry(bundle, "drainage_permit") is None
    assert _entry(bundle, "eia_registration_filing") is None
    assert "排水" in bundle["conditions"]
    assert bundle["region"] == "四川" and "sc_restaurant_plan_2024" in bundle["cites"]
    assert bundle["promise_days"] == 13 and "sc_restaurant_news_2024" in bundle["promise_cites"]


def test_company_setup_promises_chengdus_one_day(records):
    bundle = records["bundles"]["company_setup"]
    assert bundle["promise_days"] == 1 and bundle["promise_cites"] == ["cd_startup_plan_2019"]
    assert bundle["region"] == "成都"


def test_registration_items_follow_the_registration_regulation(records):
    for item_id in ("business_registration", "company_change_registration", "company_migration_registration",
                    "deregistration_registration", "individual_to_company_registration",
                    "individual_to_company_deregistration"):
        item = records["items"][item_id]
        assert item["legal_days"] == 3, item_id
        assert "cn_registration_regulation_2021" in item["cites"], item_id


def test_shop_licences_are_issued_by_the_administrative_approval_bureau(records):
    for item_id in ("food_business_permit", "public_health_permit"):
        item = records["items"][item_id]
        assert item["department"] == "administrative_approval", item_id
        assert "cd_longquanyi_article" in item["cites"], item_id


def test_medical_insurance_is_separate_from_social_insurance(records):
    assert "医疗" not in records["items"]["employer_insurance_registration"]["name"]
    assert records["items"]["employer_medical_insurance_registration"]["department"] == "medical_insurance"
    for slug in ("company_setup", "individual_business", "individual_to_company", "company_migration"):
        assert _entry(records["bundles"][slug], "employer_medical_insurance_registration") is not None, slug
    assert records["items"]["deregistration_medical_insurance"]["department"] == "medical_insurance"
    assert _entry(records["bundles"]["deregistration"], "deregistration_medical_insurance") is not None
    hire = records["bundles"]["hire_employee"]
    departments = {records["items"][e["item"]]["department"] for e in hire["items"]}
    assert {"medical_insurance", "social_security_center"} <= departments


def test_other_recorded_contradictions(records):
    items, bundles = records["items"], records["bundles"]
    # 信用中国 reviews within 10 working days
    assert items["credit_repair_penalty_other"]["working_days"] == 10
    assert "2026" in bundles["credit_repair"]["conditions"]
    # Sichuan county drug retail licence: promise 1, legal 30, 市场监管
    drug = items["drug_retail_licence"]
    assert (drug["working_days"], drug["legal_days"], drug["department"]) == (1, 30, "market_regulation")
    # 个转企: direct change keeps the code, so 注销 is only one route
    assert _entry(bundles["individual_to_company"], "individual_to_company_deregistration")["when"] == {
        "individual_to_company_route": ["new"]}
    # bankruptcy checks: no visit, the four court documents only
    for entry in bundles["bankruptcy_check"]["items"]:
        assert items[entry["item"]]["visits"] == 0
        assert "bankruptcy_check_request" not in {m["material"] for m in items[entry["item"]]["materials"]}
    # supermarket: no area threshold for the health permit; Hunan's published promise
    assert _entry(bundles["supermarket"], "public_health_permit")["when"] == {}
    assert bundles["supermarket"]["promise_days"] == 13
    # bookstore: Chengdu's comprehensive licence includes the public health permit
    assert _entry(bundles["bookstore"], "public_health_permit") is not None
