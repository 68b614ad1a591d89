"""The held-out evaluation's arithmetic: what the citizen would have seen for each case, and the metrics.

Pure functions over Rasa parses; `make eval` (ops.evaluate) and the console's quality run feed them
real parses, and `spot`: the bundles whose names or aliases a text contains word for word
(catalogue.browse.spot over the normalised text).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from .decision import Decision, decide
from .intents import TOPIC_INTENTS, slug_of

# issue 11's targets, on both held-out sets
TARGETS = {"bundle_top1": 0.98, "bundle_answered_directly": 0.95, "oos_precision": 0.97, "oos_recall": 0.95,
           "ask_back_rate": 0.80, "ask_back_relevant": 1.0}


def top_bundle(parse: dict) -> str | None:
    """The highest-ranked bundle intent, whatever the fallback says."""
    return next((slug_of(r["name"]) for r in parse.get("intent_ranking", []) if slug_of(r["name"])), None)


def effective(decision: Decision, spotted: list[str], asks_back: Mapping[str, list[str]] | None = None) -> Decision:
    """What the citizen sees: a follow-up that names one bundle word for word answers about it; an intent that asks
    back among bundles (asks_back: 开店 with no kind named, open_shop → the shop bundles) is that question back."""
    if decision.kind == "intent" and decision.intent in TOPIC_INTENTS and len(spotted) == 1:
        return Decision("bundle", spotted)
    if decision.kind == "intent" and decision.intent in (asks_back or {}):
        return Decision("clarify", list(asks_back[decision.intent]))
    return decision


def declares_out_of_scope(decision: Decision) -> bool:
    """The bot says this is not a "one thing" it covers, or treats it as small talk; a follow-up
    question with no bundle named (要带啥?) is neither: the bot asks which thing is meant."""
    return decision.kind == "fallback" or (decision.kind == "intent" and decision.intent not in TOPIC_INTENTS)


Support = Callable[[str], Mapping[str, float] | None]


def outcome(case: dict, parse: dict, spot: Callable[[str], list[str]], support: Support | None = None,
            asks_back: Mapping[str, list[str]] | None = None) -> dict:
    """What the citizen would have got for one case, and whether it was right."""
    text = parse.get("text") or ""
    spotted = spot(text)
    decision = effective(decide(parse, spotted, support(text) if support else None), spotted, asks_back)
    row = {"kind": case["kind"], "style": case.get("style") or "unmarked", "decision": decision.kind,
           "offered": decision.bundles, "intent": decision.intent, "fell_back": declares_out_of_scope(decision)}
    if case["kind"] == "bundle":
        accept = set(case.get("bundles") or [case["bundle"]])
        row["top"] = top_bundle(parse)
        row["top1"] = row["top"] in accept
        row["direct"] = decision.kind == "bundle" and decision.bundles[0] in accept
        row["asked_rightly"] = decision.kind == "clarify" and set(decision.bundles) <= accept
    elif case["kind"] == "ambiguous":
        row["asked_back"] = decision.kind == "clarify" and bool(set(decision.bundles) & set(case["candidates"]))
        row["relevant"] = decision.kind != "clarify" or set(decision.bundles) <= set(case["candidates"])
    return row


def metrics(rows: list[dict]) -> dict:
    """The figures over some outcomes (all of a set, or one style of it)."""
    ratio = lambda a, b: round(a / b, 4) if b else None  # noqa: E731
    bundle = [r for r in rows if r["kind"] == "bundle"]
    oos = [r for r in rows if r["kind"] == "out_of_scope"]
    vague = [r for r in rows if r["kind"] == "ambiguous"]
    predicted = [r for r in rows if r["fell_back"]]
    clarified = [r for r in rows if r["decision"] == "clarify"]
    return {
        "counts": {"bundle": len(bundle), "out_of_scope": len(oos), "ambiguous": len(vague)},
        "bundle_top1": ratio(sum(r["top1"] for r in bundle), len(bundle)),
        "bundle_answered_directly": ratio(sum(r["direct"] for r in bundle), len(bundle)),
        "bundle_answered_or_asked_rightly": ratio(sum(r["direct"] or r["asked_rightly"] for r in bundle), len(bundle)),
        # rows holding no uncovered question (one style of bundle questions, one file of them) have no precision to
        # speak of: every fallback there is wrong, and shows in answered-or-asked-rightly instead of as 0 %
        "oos_precision": ratio(sum(r["kind"] == "out_of_scope" for r in predicted), len(predicted)) if oos else None,
        "oos_recall": ratio(sum(r["fell_back"] for r in oos), len(oos)),
        "oos_checklists": ratio(sum(r["decision"] == "bundle" for r in oos), len(oos)),
        "ask_back_rate": ratio(sum(r["asked_back"] for r in vague), len(vague)),
        "ask_back_relevant": ratio(sum(r.get("relevant", True) for r in clarified if r["kind"] == "ambiguous"),
                                   sum(r["kind"] == "ambiguous" for r in clarified)),
    }


def evaluate(cases: list[dict], parses: list[dict], spot: Callable[[str], list[str]],
             support: Support | None = None, asks_back: Mapping[str, list[str]] | None = None) -> dict:
    """Every metric over the set and per style tag, with each wrong answer listed under its bundle."""
    rows = [outcome(case, parse, spot, support, asks_back) for case, parse in zip(cases, parses, strict=True)]
    errors: dict[str, list[dict]] = defaultdict(list)
    for case, row in zip(cases, rows, strict=True):
        where = {"text": case["text"], "decision": row["decision"], "offered": row["offered"], "style": row["style"]}
        if row["kind"] == "bundle" and not (row["top1"] and row["direct"]):
            errors[case["bundle"]].append(where | {"top": row["top"], "routed": row["direct"] or row["asked_rightly"]})
        elif row["kind"] == "out_of_scope" and not row["fell_back"]:
            errors["out_of_scope"].append(where | {"intent": row["intent"]})
        elif row["kind"] == "ambiguous" and not row["asked_back"]:
            errors["ambiguous"].append(where)
    styles = sorted({r["style"] for r in rows})
    return {**metrics(rows), "errors": dict(sorted(errors.items())), "targets": TARGETS,
            "styles": {style: metrics([r for r in rows if r["style"] == style]) for style in styles}}


COVERAGE_PHRASES = ("{}怎么办", "{}在哪办")


def coverage_cases(records: dict) -> list[dict]:
    """For every item a bundle contains, the questions "X怎么办" and "X在哪办": right when answered with
    a bundle that contains X, or asked back among bundles that contain it (never a fallback).

    A bundle holding the same item named with a qualifier in brackets (社会保险单位信息变更（迁出地转出） in
    company_migration beside 社会保险单位信息变更 in business_change) contains X too: asking back between the two
    is the right answer to "社会保险单位信息变更怎么办". The qualified name's own questions accept only its holders."""
    holders: dict[str, list[str]] = {}
    for slug, bundle in records["bundles"].items():
        for entry in bundle["items"]:
            holders.setdefault(entry["item"], []).append(slug)
    names = {item: records["items"][item]["name"] for item in holders}

    def containing(item: str) -> list[str]:
        name, slugs = names[item], list(holders[item])
        for other, other_name in names.items():
            if other != item and other_name.startswith(name + "（"):
                slugs += [slug for slug in holders[other] if slug not in slugs]
        return slugs

    return [{"kind": "bundle", "text": phrase.format(names[item]), "bundle": slugs[0], "bundles": slugs,
             "style": "coverage", "item": item}
            for item in holders for slugs in [containing(item)] for phrase in COVERAGE_PHRASES]


def coverage(result: dict) -> dict:
    """The coverage test's figure (the share answered with a holder of the item, or asked back among
    holders) and its misses."""
    m = result["styles"].get("coverage") or metrics([])
    misses = [e for slug, errs in result["errors"].items() if slug not in ("out_of_scope", "ambiguous")
              for e in errs if not e["routed"]]
    return {"cases": m["counts"]["bundle"], "routed": m["bundle_answered_or_asked_rightly"], "misses": misses}


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


LABELS = (("bundle_top1", "bundle top-1 accuracy"), ("bundle_answered_directly", "answered directly"),
          ("bundle_answered_or_asked_rightly", "answered or asked back rightly"),
          ("oos_precision", "out-of-scope precision"), ("oos_recall", "out-of-scope recall"),
          ("oos_checklists", "checklists for uncovered questions"),
          ("ask_back_rate", "ask-back rate on ambiguous"), ("ask_back_relevant", "relevant candidates when asking"))


# every metric of LABELS, shortened for the tables of one row per style or file
SHORT_LABELS = {"bundle_top1": "top-1", "bundle_answered_directly": "direct", "bundle_answered_or_asked_rightly": "rightly",
                "oos_precision": "oos-P", "oos_recall": "oos-R", "oos_checklists": "oos-list", "ask_back_rate": "ask",
                "ask_back_relevant": "relevant"}


def _figure(value: float | None) -> str:
    return "   —" if value is None else f"{value:.1%}"


def column_header() -> str:
    """The short names of every metric, right-aligned as columns() prints their figures."""
    return " ".join(f"{SHORT_LABELS[key]:>8s}" for key, _ in LABELS)


def columns(metrics_of: Mapping[str, Any]) -> str:
    """Every metric's figure in one line (a style's, a file's), in the order of LABELS."""
    return " ".join(f"{_figure(metrics_of[key]):>8s}" for key, _ in LABELS)


def print_report(result: dict, name: str = "held-out") -> None:
    counts = result["counts"]
    print(f"{name} utterances: {counts['bundle']} bundle, {counts['out_of_scope']} out of scope, "
          f"{counts['ambiguous']} ambiguous")
    for key, label in LABELS:
        target = f"  (target ≥ {TARGETS[key]:.0%})" if key in TARGETS else ""
        print(f"{label:34s} {_figure(result[key])}{target}")
    if len(result["styles"]) > 1:
        print(f"  {'per style':16s} {'':6s} " + column_header())
        for style, m in result["styles"].items():
            print(f"  {style:16s} n={sum(m['counts'].values()):<4d} " + columns(m))
    print("errors per bundle:")
    for name, errs in result["errors"].items():
        print(f"  {name} ({len(errs)}):")
        for err in errs:
            print("    " + json.dumps(err, ensure_ascii=False))
