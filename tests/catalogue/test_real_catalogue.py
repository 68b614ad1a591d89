"""Data tests on the real catalogue: the sources agree with each other and with the reform's figures."""

from __future__ import annotations

import re

import jieba
import pytest

from catalogue import config, db, report
from catalogue.build import check
from catalogue.checklist import checklist

# The required bundles (the project brief's scope): slug → (family, stage). Slugs are stable identifiers.
REQUIRED = {
    "newborn": ("人生服务", "婴幼儿"), "school_enrolment": ("人生服务", "少年"), "marriage": ("人生服务", "青年"),
    "veteran": ("人生服务", "青年"), "social_insurance": ("人生服务", "青年"), "hukou_move": ("人生服务", "青年"),
    "utilities_transfer": ("人生服务", "中年"), "disability": ("人生服务", "中年"), "retirement": ("人生服务", "老年"),
    "senior_benefits": ("人生服务", "老年"), "after_death": ("人生服务", "老年"),
    "second_hand_house": ("不动产登记", "中年"), "new_house_certificate": ("不动产登记", "中年"),
    "mortgage_registration": ("不动产登记", "中年"), "company_setup": ("企业开办", "创业起步"),
    "individual_business": ("企业开办", "创业起步"), "food_store": ("企业开办", "行业准入"),
    "restaurant": ("企业开办", "行业准入"), "car_wash": ("企业开办", "行业准入"),
    "entertainment_venue": ("企业开办", "行业准入"), "gym": ("企业开办", "行业准入"),
    "retail_store": ("企业开办", "行业准入"), "cinema": ("企业开办", "行业准入"),
    "clothing_store": ("企业开办", "行业准入"), "training_school": ("企业开办", "行业准入"),
    "pharmacy": ("企业开办", "行业准入"), "beauty_salon": ("企业开办", "行业准入"), "hotel": ("企业开办", "行业准入"),
    "bookstore": ("企业开办", "行业准入"), "transport_company": ("企业开办", "行业准入"),
    "clinic": ("企业开办", "行业准入"), "elderly_care": ("企业开办", "行业准入"),
    "business_change": ("企业开办", "日常运营"), "hire_employee": ("企业开办", "日常运营"),
    "listing_compliance": ("企业开办", "发展融资"), "financing": ("企业开办", "发展融资"),
    "deregistration": ("企业开办", "遇到困难"), "credit_repair": ("企业开办", "遇到困难"),
    "low_risk_project": ("工程建设项目", "发展融资"), "utility_connection": ("工程建设项目", "日常运营"),
    "completion_acceptance": ("工程建设项目", "发展融资"),
}


@pytest.fixture(scope="module")
def records() -> dict:
    result = check(config.sources_dir())
    assert [str(e) for e in result.errors] == []
    return result.catalogue.records


def test_the_built_catalogue_matches_the_sources(records):
    assert db.load(db.connect(config.db_path())) == records, "build/catalogue.db is stale: run make catalogue"


def test_every_required_slug_exists_with_its_family_and_stage(records):
    found = {slug: (b["family"], b["stage"]) for slug, b in records["bundles"].items() if slug in REQUIRED}
    assert found == REQUIRED


def test_at_least_fifty_bundles(records):
    assert len(records["bundles"]) >= 50


def test_every_bundle_has_eight_aliases_each_leading_to_it_alone(records):
    owners: dict[str, set[str]] = {}
    for slug, bundle in records["bundles"].items():
        assert len(set(bundle["aliases"])) >= 8, slug
        for alias in bundle["aliases"] + [bundle["name"]]:
            owners.setdefault(alias, set()).add(slug)
    assert {alias: s for alias, s in owners.items() if len(s) > 1} == {}


def test_every_bundle_has_realistic_items_and_a_window(records):
    for slug, bundle in records["bundles"].items():
        assert len(bundle["items"]) >= 2, slug
        assert bundle["channels"], slug


def test_the_gym_figures_of_the_article(records):
    """41→25 materials, 43→14 working days, 5→1 visits. The article also counts 5 departments before the
    reform; today the 区行政审批局 issues both the 营业执照 and the 公共卫生许可证, so 4 remain."""
    result = checklist(records, "gym")
    assert result["before"] == {"materials": 41, "working_days": 43, "departments": 4, "visits": 5, "steps": 20}
    assert {k: result["after"][k] for k in ("materials", "working_days", "visits")} == {
        "materials": 25, "working_days": 14, "visits": 1}


def test_average_reductions_meet_the_reform(records):
    reduction = report.stats(records)["reduction"]
    assert reduction["steps"] >= 0.60
    assert reduction["materials"] >= 0.30
    assert reduction["working_days"] >= 0.30


def test_every_bundle_name_stays_one_jieba_token(records):
    tokenizer = jieba.Tokenizer()
    tokenizer.tmp_dir = str(config.cache_dir())
    tokenizer.load_userdict(str(config.dictionary_dir() / "yishi.txt"))
    for bundle in records["bundles"].values():
        core = re.split(r"[（(]", bundle["name"])[0].strip()
        assert list(tokenizer.cut(core)) == [core]


@pytest.mark.parametrize("query, slug", [("户口", "hukou_move"), ("社保", "social_insurance"), ("健身房", "gym"),
                                         ("洗车", "car_wash"), ("KTV", "entertainment_venue"), ("二手房", "second_hand_house"),
                                         ("退休", "retirement"), ("注销", "deregistration")])
def test_short_queries_find_their_bundle(query, slug):
    hits = [h["slug"] for h in db.search(db.connect(config.db_path()), query, limit=5)]
    assert slug in hits


def test_every_bundle_has_an_english_title_and_summary(records):
    """Questions asked in English get the bundle's English title and summary before the Chinese checklist."""
    missing = [slug for slug, b in records["bundles"].items() if not (b["name_en"] and b["summary_en"])]
    assert missing == []
    assert not [slug for slug, b in records["bundles"].items() if re.search(r"[\u4e00-\u9fff]{6,}", b["name_en"])]
