"""Answers to follow-up questions about the bundle in context, each read from its checklist."""

from __future__ import annotations

from typing import Any, Callable

from assistant.intents import TOPIC_INTENTS
from catalogue import markdown as md
from catalogue.report import material_line

Checklist = dict[str, Any]


def materials(result: Checklist) -> str:
    return md.blocks(f"办理“{md.escape(result['name'])}”需要准备的材料（{len(result['materials'])}份，标“如适用”的看您的情况）：",
                     md.bullets(material_line(m) for m in result["materials"]))


def duration(result: Checklist) -> str:
    before, limit = result["before"], result["time_limit"]
    head = (f"“{md.escape(result['name'])}”一次办，各部门并联审批（一件一件分别办合计约{before['working_days']}个工作日）。"
            f"办理时限：{md.escape(limit['text'])}。")
    if result.get("finish"):
        head += md.escape(result["finish"]["text"]) + "。"
    return md.blocks(head, "各事项的时限：",
                     md.bullets(md.escape(f"{i['name']}：{i['working_days']}个工作日" + ("（如适用）" if i["if_applicable"] else ""))
                                for i in result["items"]))


def location(result: Checklist) -> str:
    offline = [c for c in result["channels"] if c["kind"] in ("offline", "door_to_door")]
    if not offline:
        return f"“{md.escape(result['name'])}”可以全程网上办理，不用跑现场。" + online(result)
    lines = []
    for channel in offline:
        where = "，".join(x for x in (channel.get("address"), channel.get("hours")) if x)
        lines.append(md.escape(channel["name"] + (f"：{where}" if where else "")))
    return md.blocks(f"“{md.escape(result['name'])}”可以在这些地方办理：", md.bullets(lines))


def online(result: Checklist) -> str:
    channels = [c for c in result["channels"] if c["kind"] == "online"]
    if not channels:
        return f"“{md.escape(result['name'])}”目前需要到窗口办理，暂不能网上办。"
    head = ("可以全程网上办理，一次都不用跑：" if result["online_full"]
            else "可以网上申报，需要核验原件或现场勘验的，按通知到窗口或现场办理：")
    # a URL stays as written (escaping would break it for plain-text readers); Markdown shows it as text or a link
    return head + "；".join(md.escape(c["name"]) + (f"（{c['url']}）" if c.get("url") else "") for c in channels) + "。"


def fee(result: Checklist) -> str:
    fees = [md.escape(f"{i['name']}：{i['fee']}") for i in result["items"] if i.get("fee")]
    return md.blocks(md.escape(f"“{result['name']}”的收费：{result['fee'] or '以窗口公示为准'}"), md.bullets(fees))


def mechanism(result: Checklist) -> str:
    if not result["mechanisms"]:
        return f"“{md.escape(result['name'])}”暂未公布适用容缺受理或告知承诺的规定，请以窗口告知为准。"
    return md.blocks(f"“{md.escape(result['name'])}”适用这些便民措施：",
                     md.bullets(md.escape(f"{m['name']}：{m['description']}") for m in result["mechanisms"]))


def agent(result: Checklist) -> str:
    return "关于代办：" + md.escape(result["agent"] or "可以委托他人代办，代理人须带授权委托书和本人身份证原件；具体以窗口要求为准。")


def departments(result: Checklist) -> str:
    names = "、".join(d["name"] for d in result["departments"])
    return md.escape(f"“{result['name']}”涉及{len(result['departments'])}个部门：{names}。"
                     f"您不用一个个去跑，材料统一交到综合窗口，由{result['lead_department']['name']}牵头联办。")


TOPICS: dict[str, Callable[[Checklist], str]] = dict(zip(
    TOPIC_INTENTS, (materials, duration, location, online, fee, mechanism, agent, departments), strict=True))
