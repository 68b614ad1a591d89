"""`make eval`: the held-out utterances (evaluation/heldout.yml, never trained on) against the trained model.

Prints bundle top-1 accuracy (the highest-ranked bundle intent is the right one), how often the
right bundle is answered directly (without asking back), out-of-scope precision and recall (out of
scope = the bot declares it not covered, or takes it as small talk), the ask-back rate on
ambiguous inputs and the errors per bundle, and writes the same as JSON to results/eval.json.
The arithmetic is assistant.evaluation; this module only asks Rasa for the parses.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from assistant.evaluation import column_header, columns, coverage, coverage_cases, evaluate, load_cases, outcome, print_report
from catalogue import browse, config, db, retrieval
from chattext import guard, normalize
from yishi import settings


async def parse_all(model: Path, texts: list[str]) -> list[dict]:
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # its default prints every parse, with the text, at DEBUG
    logging.getLogger().setLevel(logging.WARNING)

    agent = Agent.load(str(model))
    return [await agent.parse_message(guard(text)) for text in texts]


def _reused(path: Path | None, texts: list[str], model: Path) -> list[dict] | None:
    """The parses kept in path, if they are of these texts by the same model file."""
    if path is None or not path.exists():
        return None
    kept = json.loads(path.read_text(encoding="utf-8"))
    parses = kept.get("parses") or []
    same_model = model.exists() and kept.get("model_mtime") == model.stat().st_mtime
    return parses if same_model and [p.get("text") for p in parses] == [guard(t) for t in texts] else None


def run(cases: list[dict], parses: list[dict], spot, support, asks_back) -> dict:
    """The figures, and each case with the model's ranking and what the citizen would get (decision and offered
    bundles), so two models' answers can be compared case by case (the console's 模型 page)."""
    result = evaluate(cases, parses, spot, support, asks_back)
    result["cases"] = []
    for case, parse in zip(cases, parses, strict=True):
        answer = outcome(case, parse, spot, support, asks_back)
        result["cases"].append({**case, "ranking": parse.get("intent_ranking", [])[:5], "decision": answer["decision"],
                                "offered": answer["offered"], "intent": answer["intent"]})
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=settings.path("YISHI_MODEL"))
    parser.add_argument("--cases", type=Path, default=settings.path("YISHI_EVAL_CASES"))
    parser.add_argument("--blind", type=Path, default=settings.path("YISHI_EVAL_BLIND"),
                        help="the blind set (a file or folder); a missing path is skipped")
    parser.add_argument("--out", type=Path, default=settings.path("YISHI_RESULTS_DIR") / "eval.json")
    parser.add_argument("--reuse-parses", type=Path, metavar="FILE",
                        help="keep the model's parses in FILE and reuse them while the model and texts are the same "
                             "(to compare decision rules without parsing again)")
    args = parser.parse_args()
    os.chdir(settings.home())  # the model's config names build/jieba relative to the data directory
    records = db.load(db.connect(config.db_path()))
    held, blind = load_cases(args.cases), load_cases(args.blind) if args.blind.exists() else []
    items = coverage_cases(records)
    texts = [c["text"] for c in held + blind + items]
    parses = _reused(args.reuse_parses, texts, args.model) or asyncio.run(parse_all(args.model, texts))
    if args.reuse_parses:
        args.reuse_parses.write_text(json.dumps({"model_mtime": args.model.stat().st_mtime, "parses": parses},
                                                ensure_ascii=False), encoding="utf-8")

    def spot(text: str) -> list[str]:
        return browse.spot(records, normalize(text))

    def support(text: str):
        return retrieval.support(records, normalize(text))

    # 开店 with no kind named is asked back among the shop bundles (actions/browse.py: ActionAskShopType)
    asks_back = {"open_shop": browse.shop_kinds(records)}
    result = run(held, parses[:len(held)], spot, support, asks_back)
    if blind:
        blind_parses = parses[len(held):len(held) + len(blind)]
        result["blind"] = run(blind, blind_parses, spot, support, asks_back)
        # each file of the blind set on its own: rounds written at different times by different writers
        files = sorted(args.blind.rglob("*.yml")) if args.blind.is_dir() else [args.blind]
        start, result["blind"]["files"] = 0, {}
        for file in files:
            cases = load_cases(file)
            if cases:
                found = evaluate(cases, blind_parses[start:start + len(cases)], spot, support, asks_back)
                result["blind"]["files"][file.name] = {k: v for k, v in found.items() if k not in ("errors", "styles")}
                start += len(cases)
    checked = run(items, parses[len(held) + len(blind):], spot, support, asks_back)
    result["coverage"] = coverage(checked)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print_report(result)
    if blind:
        print()
        print_report(result["blind"], "blind")
        print(f"  {'blind set per file':24s} " + column_header())
        for name, m in result["blind"]["files"].items():
            print(f"  {name:24s} " + columns(m))
    cover = result["coverage"]
    print(f"\ncoverage: {cover['routed']:.1%} of {cover['cases']} questions \"<item>怎么办/在哪办\" reach a bundle "
          f"that contains the item (or ask back among them); misses: {len(cover['misses'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
