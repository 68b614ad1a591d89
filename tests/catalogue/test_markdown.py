"""Reply text is Markdown-safe: catalogue text never becomes markup, blocks stay one Rasa message."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from catalogue import markdown as md


def test_markup_characters_are_escaped_and_chinese_text_is_left_as_written():
    assert md.escape("营业执照（副本）——区行政审批局；原件1份、复印件1份") == "营业执照（副本）——区行政审批局；原件1份、复印件1份"
    assert md.escape("*粗*_斜_[链接](http://x)<b>`码`") == r"\*粗\*\_斜\_\[链接\](http://x)\<b\>\`码\`"
    assert md.escape("# 标题\n- 列表\n1. 编号\n> 引用") == "\\# 标题\n\\- 列表\n1\\. 编号\n\\> 引用"


@given(st.text())
def test_escaped_text_has_no_unescaped_markup_character(text):
    escaped = md.escape(text)
    index = 0
    while index < len(escaped):
        if escaped[index] == "\\":
            index += 2
            continue
        assert escaped[index] not in "`*_[]<>~\\"
        index += 1


def test_blocks_are_parted_by_a_blank_line_that_rasa_does_not_cut():
    text = md.blocks(md.title("【开店】"), "说明", None, md.bullets(["甲", "乙"]))
    assert text == "**【开店】**\n \n说明\n \n- 甲\n- 乙"
    assert "\n\n" not in text  # Rasa's channels would send each part as a message of its own
