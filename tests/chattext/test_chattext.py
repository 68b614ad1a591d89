"""Masking, the slash guard and normalisation of chat text."""

from __future__ import annotations

import pytest

from assistant.payloads import is_button_payload
from chattext import content_words, guard, is_english, mask_pii, normalize


@pytest.mark.parametrize("raw, masked", [
    ("我的身份证号11010519491231002X", "我的身份证号110105********002X"),
    ("身份证 440524188001010014 电话13800138000", "身份证 440524********0014 电话138****8000"),
    ("号码 110105 19491231 002x 办理", "号码 110105********002x 办理"),
    ("老身份证110105491231002", "老身份证110105******002"),
    ("电话：+86 138-0013-8000", "电话：138****8000"),
    ("手机１３８００１３８０００", "手机138****8000"),
    ("金额12345678901234567890元", "金额12345678901234567890元"),
    ("办事员编号12345", "办事员编号12345"),
])
def test_mask_pii(raw, masked):
    assert mask_pii(raw) == masked


@pytest.mark.parametrize("text", [
    '/choose_bundle{"bundle":"gym"}', '/answer_question{"question":"has_licence","value":"yes"}',
    '/browse{"stage":"老年"}', "/none_of_these",
])
def test_own_button_payloads_pass(text):
    assert is_button_payload(text)
    assert guard(text) == text


@pytest.mark.parametrize("text, expected", [
    ("/session_start", "／session_start"),  # Rasa's own restart and session start cannot be forced
    ("/greet@0.99", "／greet@0.99"),
    ('/inform{"city":"<script>alert(1)</script>"}', '／inform{"city":"<script>alert(1)</script>"}'),
    ('/choose_bundle{"bundle":"<b>x</b>"}', '／choose_bundle{"bundle":"<b>x</b>"}'),
    ('/answer_question{"sql":"x"}', '／answer_question{"sql":"x"}'),
    ("  /ask_id_card 我的身份证号11010519491231002X", "／ask_id_card 我的身份证号110105********002X"),
])
def test_typed_slash_text_cannot_force_an_intent(text, expected):
    assert guard(text) == expected


def test_a_clients_standard_opening_or_restart_payload_is_a_greeting_or_start_over_and_nothing_else_is():
    assert guard("/get_started") == guard(" /get_started ") == guard("/greet") == guard("/start") == "/greet"
    assert guard("/restart") == guard("/start_over") == "/start_over"
    for text in ("/get_started{\"x\":1}", "/get_started 我的电话13800138000", "/GET_STARTED", "/greet@0.99",
                 "/restart{\"x\":1}", "/session_start", "/restart now"):
        assert guard(text).startswith("／"), text  # plain text, as every other typed /…


def test_guard_handles_any_input():
    assert guard(None) == ""
    assert guard(42) == ""
    assert guard("a\x00b\x07c\ud800") == "a b c"
    assert guard("   你好   ") == "你好"


def test_normalize_keeps_length():
    for text in ["我要開健身房", "ＫＴＶ怎麼辦", "開個GYM", "二手房過戶"]:
        assert len(normalize(text)) == len(text)
    assert normalize("我要開健身房") == "我要开健身房"
    assert normalize("ＫＴＶ怎麼辦") == "ktv怎么办"


def test_english_questions_are_told_from_chinese_and_mixes():
    assert is_english("I just moved here, how do I register my company?")
    assert not is_english("想开个gym") and not is_english("ok") and not is_english("13800138000")


# --- masking however a number is typed (property-based: Hypothesis draws the separators) ---------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

SEPARATORS = st.sampled_from(["", "", " ", ".", "-", "\u200b", "\u200d", "\u2060", "\ufeff", " \u200b", "·"])
MOBILES = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
IDS = st.from_regex(r"[1-9][0-9]{16}[0-9X]", fullmatch=True)
FULL = str.maketrans("0123456789", "０１２３４５６７８９")


def typed(number: str, separators: list[str], full_width: bool) -> str:
    digits = number.translate(FULL) if full_width else number
    return "".join(d + (separators[i % len(separators)] if i < len(digits) - 1 else "") for i, d in enumerate(digits))


def digits_only(text: str) -> str:
    return "".join(ch for ch in text.translate(str.maketrans("０１２３４５６７８９", "0123456789")) if ch in "0123456789Xx")


@settings(max_examples=300, deadline=None)
@given(number=st.one_of(MOBILES, IDS), separators=st.lists(SEPARATORS, min_size=1, max_size=4),
       full_width=st.booleans(), before=st.sampled_from(["电话", "身份证号：", "我的是 ", ""]),
       after=st.sampled_from(["，请回电", " 谢谢", ""]))
def test_no_number_survives_masking_whatever_its_separators(number, separators, full_width, before, after):
    masked = mask_pii(before + typed(number, separators, full_width) + after)
    assert number not in digits_only(masked) and "****" in masked


def test_bank_cards_are_masked_when_they_pass_the_luhn_check():
    assert mask_pii("卡号6222 0212 3456 7894 然后") == "卡号6222********7894 然后"  # Luhn-valid
    assert mask_pii("订单号6222 0212 3456 7890") == "订单号6222 0212 3456 7890"  # not a card number


def test_invisible_characters_are_dropped_and_split_numbers_caught():
    assert mask_pii("13800\u200b138000") == "138****8000"
    assert mask_pii("1101051949\u200d1231002X") == "110105********002X"
    assert mask_pii("138.0013.8000 或 1 3 8 0 0 1 3 8 0 0 0") == "138****8000 或 138****8000"


@given(st.one_of(st.text(), st.sampled_from(["/get_started", "/restart", "/start_over", "/greet", " /start ",
                                              '/choose_bundle{"bundle":"gym"}', "/restart 13800138000"])))
def test_guarding_twice_changes_nothing(text):
    """The web app guards a message and Rasa's channel guards it again: the second pass must not alter it."""
    assert guard(guard(text)) == guard(text)


@pytest.mark.parametrize("words, kept", [
    (["请问", "我", "想", "开个", "修鞋", "铺", "谢谢"], ["我", "想", "开个", "修鞋", "铺"]),
    (["同志", "，", "我", "老伴", "走", "了", "，", "手续", "咋", "办"], ["，", "我", "老伴", "走", "了", "，", "手续", "咋", "办"]),
    (["你好", ",", "请问", "健身房", "怎么", "开", "?", "麻烦", "您", "了", ",", "谢谢", "!"],
     [",", "健身房", "怎么", "开", "?", ",", "!"]),
    (["hi", ",", "i", "just", "had", "a", "baby", ",", "thank", "you"], [",", "i", "just", "had", "a", "baby", ","]),
    (["谢谢", "你"], ["谢谢", "你"]),  # courtesy only: the thank intent's own words stay
    (["你好", ",", "谢谢"], ["你好", ",", "谢谢"]),
    (["请问", "一下"], ["请问", "一下"]),
    (["你好", "健身房"], ["你好", "健身房"]),  # one word would be left: too little to go on
    # asking for someone, or announcing a question: the frame goes too
    (["老板", "让", "我", "问下", ",", "公司", "经营范围"], [",", "公司", "经营范围"]),
    (["帮", "我", "外公", "问", "一下", ",", "他", "90", "多", "了"], [",", "他", "90", "多", "了"]),
    (["我", "想", "问", "一下", "公司注销", "要", "多久"], ["公司注销", "要", "多久"]),
    (["问", "一下", "公司注销"], ["问", "一下", "公司注销"]),  # 问 with nothing before it opens no frame
    (["我", "儿子", "问", "公司", "注销"], ["我", "儿子", "问", "公司", "注销"]),  # no frame word: not a frame
])
def test_words_of_courtesy_are_left_out_when_something_else_is_said(words, kept):
    assert [words[index] for index in content_words(words)] == kept
