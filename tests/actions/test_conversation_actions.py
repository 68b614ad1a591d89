"""Follow-ups, browsing, the unsure path, the honest fallback and starting over."""

from __future__ import annotations

from actions.browse import ActionBrowse
from actions.fallback import ActionNoneOfThese, ActionOutOfScope, ActionResolveUnsure
from actions.followup import ActionFollowUp
from actions.session import ActionStartOver
from catalogue.checklist import NOTICE

SHOP = {"bundle": "shop", "answers": {"size": "small"}, "pending_question": "agent"}


def test_follow_ups_answer_from_the_bundle_in_context(tracker, run, slots):
    expected = {"ask_materials": "办理“我要开小店”需要准备的材料（4份", "ask_duration": "承诺3个工作日内办结（不含邮寄时间）",
                "ask_location": "综合窗口：大厅一楼，工作日", "ask_online": "网上办（https://example.invalid/）",
                "ask_mechanism": "容缺受理：先受理后补齐。", "ask_departments": "涉及1个部门：市场监管局",
                "ask_agent": "关于代办", "ask_fee": "的收费"}
    for intent, part in expected.items():
        messages, events = run(ActionFollowUp(), tracker("要带啥子", intent=intent, slots=SHOP))
        assert part in messages[0]["text"], intent
        assert messages[0]["text"].endswith(NOTICE)
        assert slots(events) == {"bundle": "shop", "answers": {"size": "small"}}


def test_follow_up_naming_another_bundle_switches_to_it(tracker, run, slots):
    messages, events = run(ActionFollowUp(), tracker("上户口要多久", intent="ask_duration", slots=SHOP))
    assert "宝宝登记一件事" in messages[0]["text"]
    assert slots(events) == {"bundle": "baby", "answers": {}}


def test_follow_up_without_a_bundle_asks_which(tracker, run):
    messages, events = run(ActionFollowUp(), tracker("要带啥子", intent="ask_materials"))
    assert messages[0]["response"] == "utter_no_context" and events == []


def test_unsure_between_bundles_asks_back(tracker, run):
    ranking = [("nlu_fallback", 0.55), ("bundle_shop", 0.4), ("bundle_baby", 0.3)]
    messages, _ = run(ActionResolveUnsure(), tracker("小店和娃儿的事", ranking=ranking))
    assert messages[0]["custom"]["type"] == "clarify"
    assert [o["bundle"] for o in messages[0]["custom"]["options"]] == ["shop", "baby"]


def test_candidates_the_text_gives_no_support_are_not_offered(tracker, run):
    ranking = [("nlu_fallback", 0.55), ("bundle_shop", 0.4), ("bundle_baby", 0.3)]
    messages, _ = run(ActionResolveUnsure(), tracker("办个事", ranking=ranking))  # supports neither
    assert [o["bundle"] for o in messages[0]["custom"]["options"]] == ["shop"]  # only the clear best, as yes/no
    messages, _ = run(ActionResolveUnsure(), tracker("娃儿的事", ranking=ranking))
    assert [o["bundle"] for o in messages[0]["custom"]["options"]] == ["baby"]  # the supported one, not the top
    weak = [("nlu_fallback", 0.55), ("bundle_shop", 0.15), ("bundle_baby", 0.1)]
    messages, _ = run(ActionResolveUnsure(), tracker("办个事", ranking=weak))
    assert messages[0]["custom"]["type"] == "fallback"


def test_unsure_but_an_alias_is_named_gives_that_bundle(tracker, run):
    ranking = [("nlu_fallback", 0.55), ("out_of_scope", 0.4)]
    messages, events = run(ActionResolveUnsure(), tracker("那个，上户口咋办", ranking=ranking))
    assert messages[0]["custom"]["bundle"] == "baby"


def test_nothing_fits_says_so_and_shows_no_bundle(tracker, run):
    for action in (ActionResolveUnsure(), ActionOutOfScope()):
        ranking = [("out_of_scope", 0.9), ("bundle_shop", 0.05)]
        messages, _ = run(action, tracker("<img src=x onerror=alert(1)>明天下雨吗", ranking=ranking))
        assert [m.get("custom") for m in messages] == [{"type": "fallback"}]
        assert "12345" in messages[0]["text"] and "综合窗口" in messages[0]["text"]
        assert "<" not in messages[0]["text"]  # never echoes the user's text
        assert [b["title"] for b in messages[0]["buttons"]] == ["个人办事（按人生阶段）", "企业办事（按经营阶段）",
                                                                "房产登记", "工程建设项目"]


def test_none_of_these(tracker, run):
    messages, _ = run(ActionNoneOfThese(), tracker("都不是", intent="none_of_these"))
    assert messages[0]["custom"] == {"type": "fallback"} and messages[0]["text"].startswith("好的，看来我没理解对")


def test_browse_goes_family_then_stage_then_bundles(tracker, run):
    messages, _ = run(ActionBrowse(), tracker("有哪些可以办", intent="browse"))
    assert [b["title"] for b in messages[0]["buttons"]] == ["人生服务", "企业开办", "工程建设项目", "不动产登记"]
    messages, _ = run(ActionBrowse(), tracker(intent="browse", entities={"family": "企业开办"}))
    assert [b["payload"] for b in messages[0]["buttons"]][0] == '/browse{"stage":"创业起步"}'
    messages, _ = run(ActionBrowse(), tracker("老年人能办啥", intent="browse"))
    assert messages[0]["buttons"] == [] and "暂时还没有收录" in messages[0]["text"]  # no 老年 bundle here
    messages, _ = run(ActionBrowse(), tracker(intent="browse", entities={"stage": "行业准入"}))
    assert messages[0]["buttons"] == [{"title": "我要开小店", "payload": '/choose_bundle{"bundle":"shop"}'}]


def test_start_over_resets_every_slot(tracker, run):
    messages, events = run(ActionStartOver(), tracker("重新开始", intent="start_over", slots=SHOP))
    assert messages[0]["response"] == "utter_start_over"
    assert events == [{"event": "reset_slots", "timestamp": None}]


def test_a_shop_of_no_named_kind_asks_which_kind(tracker, run, slots):
    from actions.browse import ActionAskShopType

    messages, events = run(ActionAskShopType(), tracker("开店", intent="open_shop"))
    assert messages[0]["custom"] == {"type": "clarify", "options": [{"bundle": "shop", "name": "我要开小店"}]}
    assert slots(events) == {"pending_question": None}
