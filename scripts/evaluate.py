"""`make eval`: the held-out utterances (tests/eval/heldout.yml, never trained on) against the trained model.

Prints bundle top-1 accuracy (the highest-ranked bundle intent is the right one), how often the
right bundle is answered directly (without asking back), out-of-scope precision and recall (out of
scope = the bot declares it not covered, or takes it as small talk), the ask-back rate on
ambiguous inputs and the errors per bundle, and writes the same as JSON to results/eval.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections import defaultdict
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from actions.topics import TOPICS  # noqa: E402
from actions.understanding import Decision, decide  # noqa: E402
from catalogue import browse, config, db  # noqa: E402
from catalogue.training import slug_of  # noqa: E402
from chattext import guard, normalize  # noqa: E402

TARGETS = {"bundle_top1": 0.95, "oos_precision": 0.90, "oos_recall": 0.90}


def top_bundle(parse: dict) -> str | None:
    """The highest-ranked bundle intent, whatever the fallback says."""
    return next((slug_of(r["name"]) for r in parse.get("intent_ranking", []) if slug_of(r["name"])), None)


async def parse_all(model: Path, texts: list[str]) -> list[dict]:
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # its default prints every parse, with the text, at DEBUG
    logging.getLogger().setLevel(logging.WARNING)

    agent = Agent.load(str(model))
    return [await agent.parse_message(guard(text)) for text in texts]


def effective(decision: Decision, spotted: list[str]) -> Decision:
    """What the citizen sees: a follow-up that names one bundle word for word answers about it."""
    if decision.kind == "intent" and decision.intent in TOPICS and len(spotted) == 1:
        return Decision("bundle", spotted)
    return decision


def declares_out_of_scope(decision: Decision) -> bool:
    """The bot says this is not a "one thing" it covers, or treats it as small talk; a follow-up
    question with no bundle named (要带啥?) is neither: the bot asks which thing is meant."""
    return decision.kind == "fallback" or (decision.kind == "intent" and decision.intent not in TOPICS)


def evaluate(cases: list[dict], parses: list[dict], records: dict) -> dict:
    bundle_total = bundle_top1 = answered = 0
    oos_true = oos_predicted = oos_correct = 0
    ambiguous_total = asked_back = 0
    errors: dict[str, list[dict]] = defaultdict(list)
    for case, parse in zip(cases, parses, strict=True):
        decision = effective(decide(parse, spotted := browse.spot(records, normalize(parse.get("text") or ""))),
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


def load_cases(path: Path) -> list[dict]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    cases = [{"kind": "bundle", **c} for c in data["bundles"]]
    cases += [{"kind": "out_of_scope", "text": t} for t in data["out_of_scope"]]
    cases += [{"kind": "ambiguous", **c} for c in data["ambiguous"]]
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=PROJECT / "models" / "yishi.tar.gz")
    parser.add_argument("--cases", type=Path, default=PROJECT / "tests" / "eval" / "heldout.yml")
    parser.add_argument("--out", type=Path, default=PROJECT / "results" / "eval.json")
    args = parser.parse_args()
    os.chdir(PROJECT)  # the model's config names build/jieba relative to the project
    cases = load_cases(args.cases)
    parses = asyncio.run(parse_all(args.model, [c["text"] for c in cases]))
    result = evaluate(cases, parses, db.load(db.connect(config.db_path())))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result["cases"] = [{**case, "ranking": parse.get("intent_ranking", [])[:5]} for case, parse in zip(cases, parses, strict=True)]
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print_report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
