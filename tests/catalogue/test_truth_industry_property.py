"""Data tests of the industry_property source pass (docs/source-pass/industry_property.yaml): the catalogue
says what its sources say for the industry_b and property_construction bundles."""

from __future__ import annotations

import pytest

from catalogue import config
from catalogue.build import check
from catalogue.checklist import checklist

PUBLIC_GATHERING = ("hotel", "entertainment_venue", "cinema")  # 消防法 第73条: 宾馆, 公共娱乐场所


@pytest.fixture(scope="module")
def records() -> dict:
    return check(config.sources_dir()).catalogue.records


def _entry(records, slug, item):
    found = [e for e in records["bundles"][slug]["items"] if e["item"] == item]
    assert found, f"{slug} has no {item}"
    return found[0]


@pytest.mark.parametrize("slug", PUBLIC_GATHERING)
def test_no_item_condition_of_a_public_gathering_bundle_keys_the_fire_check_on_area(records, slug):
    # 消防法 第15条/第73条 (cn_fire_law_art15, cn_fire_law_art73): every 公众聚集场所, no area threshold
    assert _entry(records, slug, "fire_safety_inspection")["when"] == {}
    for entry in records["bundles"][slug]["items"]:
        assert not any("area" in key for key in entry["when"]), (slug, entry)
    assert "300平方米以下的营业前消防安全检查" not in (records["bundles"][slug]["conditions"] or "")


@pytest.mark.parametrize("slug", PUBLIC_GATHERING)
def test_a_small_public_gathering_place_still_gets_the_fire_check(records, slug):
    items = [i["id"] for i in checklist(records, slug)["items"]]
    assert "fire_safety_inspection" in items
    assert "venue_area" not in {q["key"] for q in checklist(records, slug)["questions"]}


@pytest.mark.parametrize("slug", ("beauty_salon", "elderly_care", "clinic"))
def test_places_that_are_not_public_gathering_places_get_no_pre_opening_fire_check(records, slug):
    assert "fire_safety_inspection" not in [e["item"] for e in records["bundles"][slug]["items"]]


@pytest.mark.parametrize("slug", PUBLIC_GATHERING + ("beauty_salon",))
def test_public_health_permit_is_always_needed_where_sichuan_lists_the_place(records, slug):
    # 四川省人民政府令第322号 and the 2023 Chengdu answer: 宾馆, 理发店/美容店, 影剧院, 游艺厅, 舞厅
    assert _entry(records, slug, "public_health_permit")["when"] == {}
    bundle = records["bundles"][slug]
    assert {"cd_public_health_2023", "sc_public_health_amendment_2017"} <= set(bundle["cites"])


def test_the_nails_only_exemption_is_gone(records):
    assert "beauty_salon_services" not in records["questions"]
    assert "public_health_permit" in [i["id"] for i in checklist(records, "beauty_salon")["items"]]


def test_departments_cite_their_best_source(records):
    departments = records["departments"]
    approval = departments["administrative_approval"]
    assert approval["region"] == "成都"
    assert {"cd_longquanyi_article", "cd_lqy_entertainment_guide"} <= set(approval["cites"])
    for dept_id, citation in [("health_commission", "cd_public_health_2023"),
                              ("water_affairs", "cd_car_wash_measures_2016_text"),
                              ("ecology_environment", "cd_car_wash_measures_2016_text"),
                              ("urban_management", "cd_car_wash_measures_2016_text")]:
        assert citation in departments[dept_id]["cites"], dept_id
        assert departments[dept_id]["region"] == "成都", dept_id
    assert departments["propaganda"]["region"] == "推断"
    for dept_id, dept in departments.items():
        assert dept["region"] == "推断" or dept["cites"], dept_id


def test_the_entertainment_licence_is_granted_by_the_approval_bureau_per_the_district_guide(records):
    item = records["items"]["entertainment_licence"]
    assert item["department"] == "administrative_approval"
    assert item["region"] == "成都" and "cd_lqy_entertainment_guide" in item["cites"]


def test_elderly_care_filing_is_not_a_pre_opening_step(records):
    # hb_suizhou_elderly_filing: 登记后即可开展服务活动; 备案 within 10 working days after taking in residents
    entry = _entry(records, "elderly_care", "elderly_care_filing")
    assert entry["when"] == {"elderly_care_residents": ["yes"]}
    before_opening = checklist(records, "elderly_care", {"elderly_care_residents": "no"})
    assert "elderly_care_filing" not in [i["id"] for i in before_opening["items"]]
    assert "10个工作日" in records["items"]["elderly_care_filing"]["name"]


def test_the_hotel_special_trade_permit_waits_for_the_fire_check(records):
    item = records["items"]["hotel_special_trade_permit"]
    assert "fire_safety_inspection" in item["requires"]
    assert "fire_inspection_opinion" in [m["material"] for m in item["materials"]]
    assert "xx_hotel_special_trade_guide" in item["cites"]


def test_utility_connection_serves_only_builders_of_new_projects(records):
    bundle = records["bundles"]["utility_connection"]
    assert "utility_connection_project" not in records["questions"]
    assert "个体工商户" not in bundle["conditions"]
    assert "建设单位" in bundle["summary"] and "增容的企业" not in bundle["summary"]
    assert "暂只面向企业用户" in bundle["conditions"]


def test_transport_company_checks_the_licence_instead_of_issuing_it(records):
    items = [e["item"] for e in records["bundles"]["transport_company"]["items"]]
    assert "business_registration" not in items
    assert _entry(records, "transport_company", "business_licence_check")["when"] == {}


PROMISES = {"transport_company": (5, "hn_transport_company_guide"),
            "utility_connection": (2, "hn_utility_connection_guide"),
            "completion_acceptance": (10, "hn_joint_acceptance_guide"),
            "construction_start": (18, "hn_construction_start_guide"),
            "provident_fund_loan": (10, "hn_provident_loan_guide"),
            "low_risk_project": (10, "ah_suzhou_low_risk_2022")}
GROUP = ("car_wash", "entertainment_venue", "cinema", "training_school", "beauty_salon", "hotel",
         "transport_company", "clinic", "elderly_care", "second_hand_house", "new_house_certificate",
         "mortgage_registration", "provident_fund_loan", "low_risk_project", "utility_connection",
         "completion_acceptance", "construction_start")


@pytest.mark.parametrize("slug", GROUP)
def test_published_promises_only_where_a_source_publishes_one(records, slug):
    bundle = records["bundles"][slug]
    if slug in PROMISES:
        days, citation = PROMISES[slug]
        assert (bundle["promise_days"], bundle["promise_cites"]) == (days, [citation])
        assert records["citations"][citation]["region"] == "外省"
        assert records["citations"][citation]["province"] in {"湖南", "安徽"}
    else:
        assert bundle["promise_days"] is None and bundle["promise_cites"] == []


BEST = {"car_wash": "cd_car_wash_measures_2016", "entertainment_venue": "cd_lqy_entertainment_guide",
        "cinema": "yn_yunxian_film_permit", "training_school": "gz_sandu_training_2023",
        "beauty_salon": "cd_public_health_2023", "hotel": "cd_public_health_2023",
        "transport_company": "hn_transport_company_guide", "elderly_care": "hb_suizhou_elderly_filing",
        "second_hand_house": "cn_onething_2022_report", "new_house_certificate": "hn_new_house_guide",
        "mortgage_registration": "hn_enterprise_property_guide", "provident_fund_loan": "hn_provident_loan_guide",
        "low_risk_project": "ah_suzhou_low_risk_2022", "utility_connection": "hn_utility_connection_guide",
        "completion_acceptance": "hn_joint_acceptance_guide", "construction_start": "hn_construction_start_guide"}


@pytest.mark.parametrize("slug", sorted(BEST))
def test_each_bundle_cites_its_best_source_and_not_the_whole_hunan_wiki(records, slug):
    bundle = records["bundles"][slug]
    assert BEST[slug] in bundle["cites"]
    assert "hn_gov_wiki" not in bundle["cites"]


def test_the_clinic_stays_inferred(records):
    assert records["bundles"]["clinic"]["region"] == "推断"


def test_tax_items_take_the_hunan_five_days(records):
    # hn_enterprise_property_guide: 不动产交易纳税申报 5; hn_provident_loan_guide: 房地产交易税费申报 5
    assert records["items"]["resale_tax_payment"]["working_days"] == 5
    assert records["items"]["new_house_deed_tax"]["working_days"] == 5


def test_joint_acceptance_asks_for_the_civil_defence_relocation_fee_receipt(records):
    uses = {m["material"]: m["when"] for m in records["items"]["completion_filing"]["materials"]}
    assert uses.get("civil_defence_relocation_fee_receipt") == {"project_civil_defence": ["no"]}


def test_new_house_summary_does_not_promise_the_certificate_on_delivery_day(records):
    assert "交房当天就能拿到" not in records["bundles"]["new_house_certificate"]["summary"]


def test_entertainment_venue_states_the_arcade_size_rule(records):
    conditions = records["bundles"]["entertainment_venue"]["conditions"]
    assert "台数不少于30台" in conditions and "电子游戏场所" in conditions
