"""What a Rasa client is sent: custom payloads only when it announces the rich contract (issue 15)."""

from __future__ import annotations

import pytest

from assistant.payloads import RICH_CONTRACT
from yishi.contract import announced, checklist_url, for_plain_client

BUNDLE = {"type": "bundle", "bundle": "shop",
          "checklist": {"questions": [{"key": "area", "answer": "small"}, {"key": "agent", "answer": None}]}}


@pytest.mark.parametrize("metadata", [None, {}, "rich", {"yishi_contract": "yes"}, {"yishi_contract": ["rich"]},
                                      {"contract": "rich"}, [RICH_CONTRACT]])
def test_only_the_exact_announcement_counts_and_nothing_else_a_client_sends_is_kept(metadata):
    assert announced(metadata) is None
    assert announced({**RICH_CONTRACT, "user": "13800138000", "page": "x"}) == RICH_CONTRACT


def test_a_checklist_becomes_its_text_and_a_link_to_the_printable_page(monkeypatch):
    monkeypatch.setenv("YISHI_PUBLIC_URL", "https://yishi.example.gov.cn/")
    assert checklist_url(BUNDLE) == "https://yishi.example.gov.cn/checklist/shop?area=small"
    shown = for_plain_client({"text": "**【我要开小店】**", "custom": BUNDLE})
    assert "custom" not in shown
    assert shown["text"] == ("**【我要开小店】**\n \n"
                             "[打开可打印的清单（可存到手机、可打印）](https://yishi.example.gov.cn/checklist/shop?area=small)")


def test_a_payload_with_nothing_else_to_show_is_not_sent_and_text_and_buttons_stay():
    assert for_plain_client({"custom": {"type": "fallback"}}) is None
    buttons = [{"title": "都不是", "payload": "/none_of_these"}]
    assert for_plain_client({"text": "是哪一个？", "buttons": buttons, "custom": {"type": "clarify"}}) == \
        {"text": "是哪一个？", "buttons": buttons}
    assert for_plain_client({"text": "您好"}) == {"text": "您好"}
