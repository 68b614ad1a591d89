"""Data tests of the life group's source pass (docs/source-pass/life.yaml): the records say what the sources say."""

from __future__ import annotations

import json

import pytest

from catalogue import config
from catalogue.build import check

LIFE = ["newborn", "school_enrolment", "marriage", "veteran", "social_insurance", "hukou_move", "utilities_transfer",
        "disability", "retirement", "senior_benefits", "after_death", "childcare_subsidy", "graduate_settlement",
        "public_rental_housing", "medical_reimbursement", "social_assistance", "personal_startup"]


@pytest.fixture(scope="module")
def records() -> dict:
    return check(config.sources_dir()).catalogue.records


def items_of(records: dict, slug: str) -> list[dict]:
    return [records["items"][entry["item"]] for entry in records["bundles"][slug]["items"]]


def text_of(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False)


# 1. 婚姻登记条例（国务院令第804号）: ID card and signed declaration only; no 户口簿, no photos.
def test_marriage_registration_asks_for_exactly_what_the_2025_regulation_asks(records):
    item = records["items"]["marriage_registration"]
    assert {m["material"] for m in item["materials"]} == {"id_card", "marriage_declaration_form"}
    assert records["materials"]["marriage_declaration_form"]["kind"] != "form"   # a signed declaration, not merged away
    assert {"cn_marriage_reg_2025", "cn_marriage_reg_2025_text"} <= set(item["cites"])
    assert item["region"] == "国家"


def test_no_photo_or_household_register_for_the_marriage_registration(records):
    for m in records["items"]["marriage_registration"]["materials"]:
        material = records["materials"][m["material"]]
        assert material["kind"] != "photo" and m["material"] != "household_register", m


# 2. 川卫规〔2022〕5号: 生育登记 online or at the 乡(镇)/街道, with 身份证 OR 户口簿.
def test_fertility_registration_follows_the_sichuan_rule(records):
    item = records["items"]["fertility_registration"]
    assert item["department"] == "street_office"
    materials = [m["material"] for m in item["materials"]]
    assert "household_register" not in materials            # not both documents
    id_card = next(m for m in item["materials"] if m["material"] == "id_card")
    assert "户口簿" in id_card["note"] and "任选其一" in id_card["note"]
    assert {"sc_fertility_reg_2022", "sc_fertility_reg_2022_qa"} <= set(item["cites"]) and item["region"] == "四川"
    assert {"street_center", "sichuan_zwfw"} <= set(records["bundles"]["marriage"]["channels"])


# 3. The published newborn promise: 5 working days, card making and mailing excluded (外省 sources).
def test_newborn_carries_the_published_five_day_promise(records):
    bundle = records["bundles"]["newborn"]
    assert bundle["promise_days"] == 5
    assert "制证" in bundle["promise_note"] and "邮寄" in bundle["promise_note"]
    assert "gd_zhongshan_newborn" in bundle["promise_cites"]
    assert {records["citations"][c]["region"] for c in bundle["promise_cites"]} == {"外省"}


def test_newborn_medical_item_is_the_medical_cost_not_the_allowance(records):
    assert "生育津贴" not in records["items"]["maternity_allowance"]["name"]
    assert "生育津贴" not in records["bundles"]["newborn"]["summary"]


# 4. Other regions presented as local.
def test_retirement_has_no_hunan_only_child_reward(records):
    assert not any("独生子女" in text_of(item) for item in items_of(records, "retirement"))
    assert "独生子女" not in records["bundles"]["retirement"]["summary"]
    assert not any("独生子女" in text_of(records["questions"][q]) for q in records["bundles"]["retirement"]["questions"])


def test_after_death_uses_no_changsha_funeral_home_service_point(records):
    bundle = records["bundles"]["after_death"]
    assert "funeral_home_desk" not in bundle["channels"]
    assert not any("殡仪馆" in (records["channels"][c]["address"] or "") for c in bundle["channels"])
    assert "四川户籍" in bundle["conditions"] and "sc_funeral_benefit_2025" in bundle["cites"]
    assert "sc_funeral_benefit_2025" in records["items"]["cremation_certificate_issue"]["cites"]


def test_hunan_time_limits_stay_marked_as_another_province(records):
    for slug in LIFE:
        for item in items_of(records, slug):
            if item["cites"] and all(records["citations"][c]["region"] == "外省" for c in item["cites"]):
                assert item["region"] == "外省", item["id"]


# 5. 医保 (医疗保障局) is not 社保.
def test_medical_insurance_items_are_not_run_by_the_social_security_centre(records):
    for slug in LIFE:
        for item in items_of(records, slug):
            if any(w in item["name"] for w in ("医保", "医疗保险", "生育医疗", "医疗救助", "就医", "慢特病", "报销")):
                assert item["department"] == "medical_insurance", item["id"]
            if any(w in item["name"] for w in ("养老", "社会保障卡")):
                assert item["department"] != "medical_insurance", item["id"]


# Other contradictions of the research file.
def test_school_enrolment_uses_the_chengdu_platforms_and_list(records):
    bundle = records["bundles"]["school_enrolment"]
    assert {"cd_enrolment_platform", "cd_migrant_school_platform"} <= set(bundle["channels"])
    assert "5月6日" in bundle["conditions"] and "4月1日" in bundle["conditions"]
    registration = records["items"]["school_enrolment_registration"]
    assert "social_insurance_payment_record" not in [m["material"] for m in registration["materials"]]
    assert "migrant_school_work_proof" in [m["material"] for m in registration["materials"]]
    assert records["items"]["school_residence_permit_check"]["department"] == "street_office"
    assert bundle["region"] == "成都"


def test_childcare_subsidy_channel_and_promise_follow_the_published_guide(records):
    bundle = records["bundles"]["childcare_subsidy"]
    assert "childcare_subsidy_miniprogram" in bundle["channels"]
    assert not {"tianfu_rongyiban", "sichuan_zwfw", "longquan_app"} & set(bundle["channels"])
    assert bundle["promise_days"] == 27 and bundle["promise_cites"] == ["hn_childcare_subsidy"]
    assert "多胞胎不受孩次限制" not in bundle["conditions"]


def test_disability_certificate_can_be_applied_for_with_a_residence_permit(records):
    bundle = records["bundles"]["disability"]
    assert "本地户籍居民可申请" not in bundle["conditions"] and "居住证" in bundle["conditions"]
    issue = records["items"]["disability_certificate_issue"]
    assert any(m["material"] == "residence_permit" for m in issue["materials"])
    assert "三级、四级" in bundle["conditions"]
    care = records["items"]["severe_disability_care_subsidy"]
    assert {"household_register", "social_security_card"} <= {m["material"] for m in care["materials"]}


def test_flexible_insurance_needs_no_flexible_employment_registration_to_insure(records):
    entry = next(e for e in records["bundles"]["social_insurance"]["items"]
                 if e["item"] == "flexible_employment_registration")
    assert entry["when"] == {"social_insurance_subsidy": ["yes"]}


def test_a_veteran_settles_with_the_spouse_only_after_two_years_of_marriage(records):
    option = next(o for o in records["questions"]["veteran_settle"]["options"] if o["value"] == "spouse")
    assert "2年" in option["label"]
