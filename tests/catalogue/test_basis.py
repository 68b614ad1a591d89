"""The basis line, the published promise and the finish date on every checklist."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from catalogue.checklist import checklist
from catalogue.markdown import BLANK_LINE
from catalogue.report import checklist_text


def with_region(records: dict, region: str, cites: list[str]) -> dict:
    changed = copy.deepcopy(records)
    for kind in ("bundles", "items", "materials"):
        for record in changed[kind].values():
            record["region"], record["cites"] = region, list(cites)
    return changed


def test_a_checklist_resting_on_sichuan_names_its_document(mini_records):
    result = checklist(with_region(mini_records, "四川", ["sc_guide"]), "shop")
    assert result["basis"]["text"] == "依据：四川省测试一件事工作方案（川测〔2024〕1号）"
    assert result["basis"]["regions"] == {"四川": 11}


def test_mostly_local_with_some_foreign_records_says_both(mini_records):
    records = with_region(mini_records, "四川", ["sc_guide"])
    records["materials"]["plan"] |= {"region": "外省", "cites": ["hn_guide"]}
    text = checklist(records, "shop")["basis"]["text"]
    assert text == "依据：四川省测试一件事工作方案（川测〔2024〕1号）；其余内容参考外省同类指南或一般规定整理，以窗口为准"


def test_mostly_other_provinces_or_inferred_says_so(mini_records):
    records = with_region(mini_records, "外省", ["hn_guide"])
    records["bundles"]["shop"]["promise_cites"] = []
    assert checklist(records, "shop")["basis"]["text"] == "本清单参考外省同类指南整理，龙泉驿区具体要求以窗口为准"
    assert checklist(mini_records, "baby")["basis"] == {
        "text": "本清单根据一般规定整理，尚未找到本地公布的办事指南，龙泉驿区具体要求以窗口为准",
        "regions": {"推断": 3}, "citations": []}


def test_a_published_promise_is_shown_instead_of_the_computed_figure(mini_records):
    shop, baby = checklist(mini_records, "shop"), checklist(mini_records, "baby")
    assert shop["time_limit"]["kind"] == "promise" and shop["time_limit"]["working_days"] == 3
    assert shop["time_limit"]["text"] == "承诺3个工作日内办结（不含邮寄时间），依据：四川省测试一件事工作方案（川测〔2024〕1号）"
    assert baby["time_limit"] == {"working_days": 2, "kind": "estimate", "note": None, "citations": [],
                                  "text": "预计约2个工作日办结（按各事项的时限推算，仅供参考）"}


def test_a_promise_published_in_another_province_says_where(mini_records):
    records = copy.deepcopy(mini_records)
    records["bundles"]["shop"]["promise_cites"] = ["hn_guide"]
    assert checklist(records, "shop")["time_limit"]["text"] == \
        "湖南同类“一件事”公布的承诺时限为3个工作日（不含邮寄时间），本区具体时限以窗口告知为准"


@pytest.mark.parametrize("today, expected", [(dt.date(2026, 9, 30), "今天提交，预计10月10日前办结"),
                                             (dt.date(2026, 12, 2), "今天提交，预计12月7日前办结")])
def test_the_finish_date_counts_chinese_working_days_from_today(mini_records, today, expected):
    result = checklist(mini_records, "shop", today=today)
    assert result["finish"]["text"] == expected  # 2026: 10-01..10-07 off, Saturday 10-10 worked
    assert checklist(mini_records, "shop")["finish"] is None


def test_the_plain_text_carries_time_limit_finish_and_basis(mini_records):
    text = checklist_text(checklist(mini_records, "shop", today=dt.date(2026, 12, 2)))
    lines = text.split(BLANK_LINE)  # Markdown paragraphs
    assert "办理时限：承诺3个工作日内办结（不含邮寄时间），依据：四川省测试一件事工作方案（川测〔2024〕1号）。" in lines
    assert "今天提交，预计12月7日前办结。" in lines
    # the bundle itself rests on a Sichuan document; its items and materials on nothing published
    assert lines[-2] == "依据：四川省测试一件事工作方案（川测〔2024〕1号）；其余内容参考外省同类指南或一般规定整理，以窗口为准。"
