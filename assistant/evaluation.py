"""The held-out evaluation's arithmetic: what the citizen would have seen for each case, and the metrics.

Pure functions over Rasa parses; `make eval` (ops.evaluate) and the console's quality run feed them
real parses, and `spot`: the bundles whose names or aliases a text contains word for word
(catalogue.browse.spot over the normalised text).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import yaml

from .decision import Decision, decide
from .intents import TOPIC_INTENTS, slug_of

TARGETS = {"bundle_top1": 0.95, "oos_precision": 0.90, "oos_recall": 0.90}


def top_bundle(parse: dict) -> str | None:
    """The highest-ranked bundle intent, whatever the fallback says."""
    return next((slug_of(r["name"]) for r in parse.get("intent_ranking", []) if slug_of(r["name"])), None)


def effective(decision: Decision, spotted: list[str]) -> Decision:
    """What the citizen sees: a follow-up that names one bundle word for word answers about it."""
    if decision.kind == "intent" and decision.intent in TOPIC_INTENTS and len(spotted) == 1:
        return Decision("bundle", spotted)
    return decision


def declares_out_of_scope(decision: Decision) -> bool:
    """The bot says this is not a "one thing" it covers, or treats it as small talk; a follow-up
    question with no bundle named (要带啥?) is neither: the bot asks which thing is meant."""
    return decision.kind == "fallback" or (decision.kind == "intent" and decision.intent not in TOPIC_INTENTS)


def evaluate(cases: list[dict], parses: list[dict], spot: Callable[[str], list[str]]) -> dict:
    bundle_total = bundle_top1 = answered = 0
    oos_true = oos_predicted = oos_correct = 0
    ambiguous_total = asked_back = 0
    errors: dict[str, list[dict]] = defaultdict(list)
    for case, parse in zip(cases, parses, strict=True):
        decision = effective(decide(parse, spotted := spot(parse.get("text") or "")),
                             spotted)
        fell_back = declares_out_of_scope(decision)
        oos_predicted += fell_back
        if case["kind"] == "bundle":
            bundle_total += 1
            top = top_bundle(parse)
            bundle_top1 += top == case["bundle"]
            answered += decision.kind == "bundle" and decision.bundles[0] == case["bundle"]
            if top != case["bundle"] or decision.kind != "bundle":
                errors[case["bundle"]].append({"text": case["text"], "top": top, "decision": decision.kind,
                                               "offered": decision.bundles})
        elif case["kind"] == "out_of_scope":
            oos_true += 1
            oos_correct += fell_back
            if not fell_back:
                errors["out_of_scope"].append({"text": case["text"], "decision": decision.kind,
                                               "offered": decision.bundles, "intent": decision.intent})
        else:
            ambiguous_total += 1
            asked = decision.kind == "clarify" and bool(set(decision.bundles) & set(case["candidates"]))
            asked_back += asked
            if not asked:
                errors["ambiguous"].append({"text": case["text"], "decision": decision.kind,
                                            "offered": decision.bundles})
    ratio = lambda a, b: round(a / b, 4) if b else 0.0  # noqa: E731
    return {
        "counts": {"bundle": bundle_total, "out_of_scope": oos_true, "ambiguous": ambiguous_total},
        "bundle_top1": ratio(bundle_top1, bundle_total),
        "bundle_answered_directly": ratio(answered, bundle_total),
        "oos_precision": ratio(oos_correct, oos_predicted),
        "oos_recall": ratio(oos_correct, oos_true),
        "ask_back_rate": ratio(asked_back, ambiguous_total),
        "errors": dict(sorted(errors.items())),
        "targets": TARGETS,
    }


SECTIONS = ("bundles", "out_of_scope", "ambiguous")


def load_cases(path: Path) -> list[dict]:
    """The cases of a held-out file, or of every held-out file under a folder (files with other
    content, such as conversation stories, are passed over). An out-of-scope case may be a bare text."""
    files = sorted(path.rglob("*.yml")) if path.is_dir() else [path]
    cases: list[dict] = []
    for file in files:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not set(data) & set(SECTIONS):
            continue
        for case in data.get("bundles") or []:
            case = {"kind": "bundle", **case}
            case.setdefault("bundle", (case.get("bundles") or [None])[0])
            cases.append(case)
        cases += [{"kind": "out_of_scope", **(c if isinstance(c, dict) else {"text": c})}
                  for c in data.get("out_of_scope") or []]
        cases += [{"kind": "ambiguous", **c} for c in data.get("ambiguous") or []]
    return cases


def print_report(result: dict) -> None:
    counts = result["counts"]
    print(f"held-out utterances: {counts['bundle']} bundle, {counts['out_of_scope']} out of scope, "
          f"{counts['ambiguous']} ambiguous")
    for key, label in (("bundle_top1", "bundle top-1 accuracy"), ("bundle_answered_directly", "answered directly"),
                       ("oos_precision", "out-of-scope precision"), ("oos_recall", "out-of-scope recall"),
                       ("ask_back_rate", "ask-back rate on ambiguous")):
        target = f"  (target ≥ {TARGETS[key]:.0%})" if key in TARGETS else ""
        print(f"{label:30s} {result[key]:.1%}{target}")
    print("errors per bundle:")
    for name, errs in result["errors"].items():
        print(f"  {name} ({len(errs)}):")
        for err in errs:
            print("    " + json.dumps(err, ensure_ascii=False))
