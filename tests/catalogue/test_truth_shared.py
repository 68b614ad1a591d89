"""Data tests for the shared records issue 10 found wrong: channels and the departments of the licences."""

from __future__ import annotations

import pytest

from catalogue import config
from catalogue.build import check


@pytest.fixture(scope="module")
def records():
    return check(config.sources_dir()).catalogue.records


def test_the_approval_bureau_issues_the_shop_licences(records):
    """The source article: 区行政审批局 handles 营业执照, 公共卫生许可证 and 食品经营许可 for the shop themes."""
    for item in ("business_registration", "public_health_permit", "food_business_permit"):
        assert records["items"][item]["department"] == "administrative_approval", item
        assert "cd_longquanyi_article" in records["items"][item]["cites"], item


def test_tianfu_tongban_is_a_channel_with_its_sichuan_source(records):
    channel = records["channels"]["tianfu_tongban"]
    assert channel["region"] == "四川" and "sc_restaurant_plan_2024" in channel["cites"]
    assert records["citations"]["sc_restaurant_plan_2024"]["number"] == "川市监发〔2024〕19号"


def test_tianfu_rongyiban_is_described_as_its_city_document_does(records):
    channel = records["channels"]["tianfu_rongyiban"]
    assert "cd_platform_2019" in channel["cites"] and "四川省一体化政务服务平台的成都分站点" in channel["note"]


def test_no_unverified_address_hours_or_web_address_is_printed_as_fact(records):
    hall = records["channels"]["hall_window"]
    assert "尚未核实" in hall["address"] and "尚未核实" in hall["hours"]
    for channel_id, channel in records["channels"].items():
        assert not channel["url"] or channel["cites"], channel_id


def test_no_service_point_of_another_city_is_offered(records):
    assert "funeral_home_desk" not in records["channels"]  # a Changsha funeral home's desk
    for channel_id, channel in records["channels"].items():
        assert "长沙" not in (channel["address"] or "") + (channel["note"] or ""), channel_id
