"""Every reply Yishi sends, as keyword arguments for dispatcher.utter_message.

Each carries plain text (for channels that only show text) and, where the reply contract says so,
a `custom` payload for rich clients; buttons carry only payloads that assistant.payloads parses.
"""

from __future__ import annotations

from typing import Any, Iterable

from assistant.payloads import payload
from catalogue import markdown as md
from catalogue import report
from catalogue.checklist import NOTICE

Reply = dict[str, Any]


def bundle(result: dict[str, Any]) -> Reply:
    """The bundle answer: the checklist for the answers given so far."""
    return {"text": report.checklist_text(result),
            "json_message": {"type": "bundle", "bundle": result["slug"], "checklist": result}}


def next_steps(result: dict[str, Any]) -> Reply | None:
    """What people usually need next, as buttons that open that bundle (never an answer in its own right)."""
    if not result.get("next"):
        return None
    return choices("办完这件事，很多人接着还要办下面的事，需要的话点一下：",
                   [(n["bundle"], n["name"]) for n in result["next"]], "choose_bundle", "bundle")


def english_intro(result: dict[str, Any]) -> Reply:
    """For a question asked in English: the bundle's English title and summary; the checklist follows in Chinese."""
    summary = f"{result['name_en'] or result['name']}. {result['summary_en'] or ''}".strip()
    note = ("The checklist below is in Chinese, as the service window uses it: you can show it at the window, and staff "
            "there will help you. 下面的清单为中文，可直接出示给窗口工作人员。")
    return {"text": md.blocks(md.escape(summary), note)}


def question(result: dict[str, Any], key: str) -> Reply:
    """One situational question, asked as buttons."""
    asked = next(q for q in result["questions"] if q["key"] == key)
    options = [{"value": o["value"], "label": o["label"]} for o in asked["options"]]
    return {
        "text": f"为了让清单更准确，请问：{md.escape(asked['text'])}",
        "buttons": [{"title": o["label"], "payload": payload("answer_question", question=key, value=o["value"])}
                    for o in options],
        "json_message": {"type": "question", "bundle": result["slug"], "question": key, "options": options},
    }


def clarify(candidates: Iterable[tuple[str, str]]) -> Reply:
    """Asking back: the candidate bundles, plus 都不是."""
    options = [{"bundle": slug, "name": name} for slug, name in candidates]
    text = (f"您是想办“{md.escape(options[0]['name'])}”吗？" if len(options) == 1
            else "我不太确定您说的是哪一件事，是下面哪一个？" if len(options) <= 3
            else "您想办的是哪一种？请点一下：")
    buttons = [{"title": o["name"], "payload": payload("choose_bundle", bundle=o["bundle"])} for o in options]
    buttons.append({"title": "都不是", "payload": payload("none_of_these")})
    return {"text": text, "buttons": buttons, "json_message": {"type": "clarify", "options": options}}


def fallback(reason: str = "not_covered") -> Reply:
    """Nothing fits: say so plainly, and offer browsing, the 12345 hotline and the hall's staff."""
    text = {
        "not_covered": "抱歉，这个问题不属于“一事一次办”的“一件事”，我没法给您准确的办事清单。",
        "none_of_these": "好的，看来我没理解对您要办的事。",
    }[reason]
    text += ("您可以：换个说法再描述一下您的情况；按类别浏览可以办的“一件事”；"
             "拨打12345政务服务便民热线咨询；或到区政务服务中心“一事一次办”综合窗口问工作人员。")
    return {"text": text, "buttons": browse_buttons(), "json_message": {"type": "fallback"}}


def browse_buttons() -> list[dict[str, str]]:
    return [{"title": "个人办事（按人生阶段）", "payload": payload("browse", family="人生服务")},
            {"title": "企业办事（按经营阶段）", "payload": payload("browse", family="企业开办")},
            {"title": "房产登记", "payload": payload("browse", family="不动产登记")},
            {"title": "工程建设项目", "payload": payload("browse", family="工程建设项目")}]


def choices(text: str, options: Iterable[tuple[str, str]], intent: str, key: str) -> Reply:
    """A list to pick from, as buttons (stages, families or bundles)."""
    return {"text": text, "buttons": [{"title": title, "payload": payload(intent, **{key: value})}
                                      for value, title in options]}


def with_notice(text: str) -> Reply:
    """A follow-up answer, ending with the note that the window's current requirements prevail."""
    return {"text": md.blocks(text, md.escape(NOTICE))}
