"""The console's test bench: a message goes through the real assistant, and staff see why it answered so.

One call to /staff/api/bench sends the text to Rasa's NLU (/model/parse: intent ranking, entities,
the jieba tokens) and through the REST channel (the real reply, actions included), then explains it
with the same code the actions use: assistant.decision.decide for the bundle choice and
catalogue.provenance for the checklist. Bench conversations use their own sender ids
(`staff-bench-…`), which the review and demand pages leave out.
"""

from __future__ import annotations

import copy
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from flask import Blueprint, current_app, jsonify, render_template

from assistant.decision import CANDIDATE_CONFIDENCE, LONE_CANDIDATE_CONFIDENCE, NAMED_LEAD, NAMED_SUPPORT, UNSUPPORTED_BEST, decide
from assistant.intents import NLU_FALLBACK, OUT_OF_SCOPE, slug_of
from assistant.payloads import is_button_payload
from catalogue import browse, retrieval
from catalogue.checklist import BadAnswer, UnknownBundle
from catalogue.provenance import provenance
from chattext import guard, normalize
from yishi.rasa_client import RasaUnavailable

from .. import store
from ..chat import BadText, json_body, rasa, read_text
from ..marks import json_api
from .tracker import BENCH_PREFIX

bp = Blueprint("bench", __name__)


def fallback_thresholds() -> tuple[float, float]:
    """The FallbackClassifier's threshold and ambiguity_threshold, as bot/config.yml trains them."""
    return _thresholds(current_app.config["BOT_CONFIG"])


@lru_cache(maxsize=4)
def _thresholds(path: str) -> tuple[float, float]:
    config = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    fallback = next(c for c in config["pipeline"] if c["name"] == "FallbackClassifier")
    return float(fallback["threshold"]), float(fallback["ambiguity_threshold"])


@bp.get("/bench")
def page():
    return render_template("staff/bench.html", max_chars=current_app.config["CHAT_MAX_CHARS"])


def _sender(value: Any) -> str:
    """The bench conversation's id: the one the page holds, or a new one (never a citizen's)."""
    if isinstance(value, str) and value.startswith(BENCH_PREFIX) and len(value) <= 64 \
            and value[len(BENCH_PREFIX):].isalnum():
        return value
    return BENCH_PREFIX + secrets.token_hex(8)


def _tokens(text: str, parse: dict[str, Any]) -> list[str]:
    """The tokens DIET saw: Rasa's own token spans (into the text as sent) cut out of that text."""
    return [text[start:end] for start, end in parse.get("text_tokens") or []]


def _explain(parse: dict[str, Any], spotted: list[str], support: dict[str, float] | None, names: dict[str, str],
             button: bool) -> dict[str, Any]:
    """The decision as the actions make it, with the two best bundle intents and the thresholds."""
    decision = decide(parse, spotted, support)
    ranking = parse.get("intent_ranking") or []
    bundles = [{"bundle": slug_of(r["name"]), "name": names.get(slug_of(r["name"]) or "", r["name"]),
                "confidence": r.get("confidence", 0.0)} for r in ranking if slug_of(r.get("name") or "")]
    top = (parse.get("intent") or {})
    return {
        "kind": decision.kind,
        "bundles": [{"bundle": s, "name": names.get(s, s)} for s in decision.bundles],
        "intent": decision.intent,
        "top_intent": top.get("name"),
        "top_confidence": top.get("confidence"),
        "best_bundle": bundles[0] if bundles else None,
        "runner_up": bundles[1] if len(bundles) > 1 else None,
        "spotted": [{"bundle": s, "name": names.get(s, s)} for s in spotted],
        "support": None if support is None else [{"bundle": s, "name": names.get(s, s), "score": round(v, 2)}
                                                 for s, v in list(support.items())[:5]],
        "why": _why(decision.kind, top.get("name"), spotted, decision.bundles, button,
                    getattr(support, "topic_only", False), bool(getattr(support, "item_holders", None)),
                    _kept_away_by(parse, spotted, support, decision), decision.rule),
        "thresholds": {"fallback": fallback_thresholds()[0], "ambiguity": fallback_thresholds()[1],
                       "candidate": CANDIDATE_CONFIDENCE, "lone_candidate": LONE_CANDIDATE_CONFIDENCE},
    }


def _kept_away_by(parse: dict[str, Any], spotted: list[str], support: dict[str, float] | None, decision) -> str | None:
    """The mark of catalogue.retrieval.Support ("as_customer" or "excluded") the fallback came from: without it, the
    same parse would have named bundles."""
    if decision.kind != "fallback":
        return None
    for mark in ("as_customer", "excluded"):
        if getattr(support, mark, None):
            plain = copy.copy(support)  # the same support without this mark
            setattr(plain, mark, frozenset())
            if decide(parse, spotted, plain).kind != "fallback":
                return mark
    return None


# What each rule of an unsure classifier (assistant.decision.UNSURE_RULES, Decision.rule) did, in words
UNSURE_WHY = {
    "text_leads": "但原文的词（目录的名称、别名、事项和材料）明显更指向分类器的首选，直接回答这一件事。",
    "named": "但原文逐字出现了它的名称或别名，直接回答。",
    "several_named": "原文提到了不止一件事，请群众选择。",
    "candidates": f"置信度不低于{CANDIDATE_CONFIDENCE}、原文的词也指向的几件事拿来反问。",
    "lone_candidate": (f"只有一个候选：它的置信度不低于{LONE_CANDIDATE_CONFIDENCE}，或原文的词最指向它，"
                       "问群众是不是要办这一件事。"),
    "text_points": (f"但原文的词明显指向一件事（不低于{NAMED_SUPPORT:g}，且是其他任何一件的{NAMED_LEAD:g}倍以上），"
                    "问群众是不是要办这一件事。"),
    "unsure_best": (f"原文的词指向别的事或没有明确指向，但分类器的首选置信度不低于{UNSUPPORTED_BEST}，"
                    "问群众是不是要办这一件事，而不是直接说不属于。"),
}


def _why(kind: str, top: str | None, spotted: list[str], chosen: list[str], button: bool = False,
         topic_only: bool = False, item_named: bool = False, kept_away: str | None = None, rule: str = "") -> str:
    """The rule of assistant/decision.py that made the decision, in words."""
    if button:
        return f"这是回答里按钮的固定指令（{top}），不经过分词和分类器，原样交给对话规则。"
    if kept_away == "excluded":
        return ("原文说到了某件事明确不办的内容（目录“范围之外”所列，如二手车之于二手房过户），又没有说到它仍可能办的内容；"
                "不拿这件事回答或反问，如实告诉群众这不属于“一事一次办”。")
    if kept_away == "as_customer":
        return ("原文是以顾客身份问店铺或场所（如“哪家好”“票价”“退费”“投诉”），没有开店、经营的说法；"
                "“我要开…”这类开办的一件事回答不了，如实告诉群众这不属于“一事一次办”。")
    if item_named:
        return ("原文是目录里某个事项的名称，除了问法没有别的词，不管分类器怎么判断，都不会说不属于："
                + ("只有这一件事包含它，或分类器有把握选了包含它的一件事，直接回答。" if kind == "bundle"
                   else "几件事都包含它，请群众在这几件事里选择。"))
    if topic_only:
        chosen_one = "这个方面只有这一件事，或几个方面共有的这一件事又是分类器的首选，直接回答。"
        return ("原文只说了一个大的方面（如“公积金”“户口”），除了问法没有别的词，不管分类器怎么判断，"
                + ("都请群众在这个方面的几件事里选择。" if kind == "clarify" else chosen_one))
    if kind == "intent":
        return f"识别为“{top}”（不是某一件事），按对话规则回答，不改变当前的“一件事”。"
    if top == NLU_FALLBACK:
        fallback, ambiguity = fallback_thresholds()
        lead = f"最高置信度低于{fallback}，或前两名相差不到{ambiguity}，分类器没有把握；"
    elif top == OUT_OF_SCOPE:
        lead = "分类器认为不属于任何“一件事”；"
    else:
        lead = "分类器有把握地选了一件事；"
    if rule in UNSURE_WHY:
        return lead + UNSURE_WHY[rule]
    if kind == "bundle":  # an unsure classifier's bundle always carries its rule (UNSURE_WHY)
        return lead + "直接回答这一件事。"
    if kind == "clarify":
        return lead + (UNSURE_WHY["several_named"] if len(spotted) >= 2
                       else f"置信度不低于{CANDIDATE_CONFIDENCE}的候选拿来反问（只有一个候选时须不低于{LONE_CANDIDATE_CONFIDENCE}）。")
    return lead + "没有足够接近的候选，如实告诉群众这不属于“一事一次办”，并给出浏览、12345和窗口。"


def _checklist_shown(messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    for message in messages:
        custom = message.get("custom") or {}
        if custom.get("type") == "bundle" and isinstance(custom.get("checklist"), dict):
            return custom["checklist"]
    return None


@bp.post("/api/bench")
@json_api
def run():
    """Body {"text": "…", "sender": "staff-bench-…"}: the reply and everything behind it."""
    try:
        text = read_text(empty="请输入一句话。")
    except BadText as exc:
        return jsonify(error=str(exc)), 400
    body = json_body()
    sender, safe = _sender(body.get("sender")), guard(text)
    client = rasa()
    store.release()  # no database connection held while Rasa answers
    try:
        parse = client.parse(safe, sender)
        messages = client.send(sender, safe)
        tracker = client.tracker(sender, events=False)
    except RasaUnavailable as exc:
        current_app.logger.warning("test bench: %s", exc)
        return jsonify(error="助手（Rasa）没有响应：请确认 make run 已启动全部服务。"), 503
    records = current_app.extensions["catalogue"].records()
    names = {slug: b["name"] for slug, b in records["bundles"].items()}
    shown = _checklist_shown(messages if isinstance(messages, list) else [])
    origin = None
    if shown:
        answers = {q["key"]: q["answer"] for q in shown.get("questions", []) if q.get("answer")}
        try:
            origin = provenance(records, shown["slug"], answers)
        except (UnknownBundle, BadAnswer):
            origin = None  # the catalogue changed between the reply and now
    slots = tracker.get("slots") or {}
    return jsonify(
        sender=sender, text=safe, masked=safe != text.strip(), button=is_button_payload(safe), messages=messages,
        nlu={"intent": parse.get("intent"),
             "ranking": [{**r, "label": names.get(slug_of(r.get("name") or "") or "")}
                         for r in (parse.get("intent_ranking") or [])[:10]],
             "entities": parse.get("entities") or [], "tokens": _tokens(safe, parse)},
        decision=_explain(parse, browse.spot(records, normalize(safe)), retrieval.support(records, normalize(safe)),
                          names, is_button_payload(safe)),
        provenance=origin,
        context={"bundle": slots.get("bundle"), "answers": slots.get("answers") or {},
                 "pending_question": slots.get("pending_question")},
    )
