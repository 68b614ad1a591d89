"""Lexical support: the bundles a text shares catalogue words with (names, aliases, items, materials)."""

from __future__ import annotations

import pytest

from catalogue import retrieval


def test_words_of_names_aliases_items_and_materials_support_their_bundles(mini_records):
    assert set(retrieval.support(mini_records, "上户口要带啥")) == {"baby"}
    assert set(retrieval.support(mini_records, "开个铺子")) == {"shop"}
    assert set(retrieval.support(mini_records, "平面图怎么画")) == {"shop"}  # a material of the shop's fire check


def test_no_shared_word_is_no_support_and_text_without_any_word_is_no_signal(mini_records):
    assert retrieval.support(mini_records, "今天天气怎么样") == {}
    assert retrieval.support(mini_records, "How is the weather today?") == {}
    assert retrieval.support(mini_records, "12345 !!") is None


def test_an_english_question_is_read_against_the_bundles_english_names_and_summaries(mini_records):
    """name_en "Opening a small shop": shops names the bundle; open, small, want are words of asking."""
    found = retrieval.support(mini_records, "I want to open two shops")
    assert set(found) == {"shop"}
    assert retrieval.support(mini_records, "I want to open a small one") is None  # nothing left but asking words


def test_the_best_supported_bundle_comes_first(mini_records):
    found = retrieval.support(mini_records, "开个铺子，娃儿也要上户口")
    assert list(found) == ["baby", "shop"] and found["baby"] > found["shop"]


def test_a_material_word_points_at_its_bundle_less_than_a_name_or_item_word(mini_records):
    named = retrieval.support(mini_records, "开个铺子")["shop"]
    material = retrieval.support(mini_records, "平面图怎么画")["shop"]
    assert material == pytest.approx(named * retrieval.MATERIAL_WEIGHT)


def test_a_word_typed_with_a_same_sounding_character_still_points_at_its_bundle(mini_records):
    right = retrieval.support(mini_records, "上户口要带啥")
    typo = retrieval.support(mini_records, "上护口要带啥")  # 户 → 护, both hù
    assert set(typo) == {"baby"} and typo["baby"] == pytest.approx(right["baby"] * retrieval.HOMOPHONE_WEIGHT)
    # the same sound with no character in common is not taken for the word
    assert retrieval.support(mini_records, "尚互扣要带啥") == {}  # shàng hù kòu


def test_a_named_topic_comes_with_its_bundles_and_the_support_without_its_words(mini_records):
    found = retrieval.support(mini_records, "证件的事想问下")  # the fixture's topic 证件: baby, shop
    assert found.topics == ["baby", "shop"] and found.specific == {}
    found = retrieval.support(mini_records, "开个铺子要啥证件")
    assert found.topics == ["baby", "shop"] and set(found.specific) == {"shop"}
    assert retrieval.support(mini_records, "开个铺子").topics == []


def test_a_text_of_only_a_topic_and_words_that_ask_is_marked_topic_only(mini_records):
    for text in ("证件的事想问下", "证件咋个办", "请问 证件 要怎么弄？", "证件"):
        assert retrieval.support(mini_records, text).topic_only, text
    for text in ("开个铺子要啥证件", "证件丢了咋个办", "证件余额怎么查", "想问下"):
        found = retrieval.support(mini_records, text)
        assert found is not None and not found.topic_only, text


def test_a_question_that_is_an_item_s_name_and_words_that_ask_names_its_holders(mini_records):
    """消防检查怎么办, as the catalogue writes the item: the bundles holding it; the name among other words, or a part of it,
    is not such a question (the classifier and the rest of the support decide those)."""
    for text in ("消防检查怎么办", "请问 消防检查 在哪办？", "消防检查"):
        assert retrieval.support(mini_records, text).item_holders == ["shop"], text
    for text in ("开个铺子要消防检查吗", "消防怎么办", "上户口要带啥"):
        assert retrieval.support(mini_records, text).item_holders == [], text


def test_an_item_s_name_counts_whole_or_without_its_bracketed_part(mini_records):
    mini_records["items"]["fire_check"]["name"] = "消防安全检查（营业前）"
    for text in ("消防安全检查（营业前）怎么办", "消防安全检查在哪办"):
        assert retrieval.support(mini_records, text).item_holders == ["shop"], text


def test_a_question_asked_as_a_customer_of_a_shop_marks_the_bundles_for_opening_one(mini_records):
    """我要开小店 is a bundle for opening a business (its name says 我要开); 宝宝登记一件事 is not. A customer's words with no
    word of opening or running one (开, 许可, 老板…) mark the first: the shop's bundle cannot answer 哪家铺子便宜."""
    for text in ("铺子哪家便宜", "小店买的东西要退款找哪个", "Can you recommend a cheap shop?"):
        assert retrieval.support(mini_records, text).as_customer == {"shop"}, text
    for text in ("开个铺子，哪家装修公司便宜", "铺子老板要投诉谁", "注册个铺子哪家代办便宜", "开个铺子", "上户口要带啥",
                 "I want to open a cheap shop"):
        found = retrieval.support(mini_records, text)
        assert found is not None and found.as_customer == frozenset(), text


def test_an_exclusion_of_the_catalogue_keeps_its_bundle_away_unless_a_word_brings_it_back(mini_records):
    """The fixture's exclusion: 房租 is not the shop's business, unless the text also says 铺子."""
    assert retrieval.support(mini_records, "房租怎么交").excluded == {"shop"}
    for text in ("铺子的房租怎么算", "开个铺子", "上户口要带啥"):
        assert retrieval.support(mini_records, text).excluded == frozenset(), text
