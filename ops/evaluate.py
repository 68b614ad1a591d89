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

from assistant.evaluation import evaluate, load_cases, print_report
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


def run(cases: list[dict], parses: list[dict], spot, support) -> dict:
    result = evaluate(cases, parses, spot, support)
    result["cases"] = [{**case, "ranking": parse.get("intent_ranking", [])[:5]}
                       for case, parse in zip(cases, parses, strict=True)]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=settings.path("YISHI_MODEL"))
    parser.add_argument("--cases", type=Path, default=settings.path("YISHI_EVAL_CASES"))
    parser.add_argument("--blind", type=Path, default=settings.path("YISHI_EVAL_BLIND"),
                        help="the blind set (a file or folder); a missing path is skipped")
    parser.add_argument("--out", type=Path, default=settings.path("YISHI_RESULTS_DIR") / "eval.json")
    args = parser.parse_args()
    os.chdir(settings.home())  # the model's config names build/jieba relative to the data directory
    held, blind = load_cases(args.cases), load_cases(args.blind) if args.blind.exists() else []
    parses = asyncio.run(parse_all(args.model, [c["text"] for c in held + blind]))
    records = db.load(db.connect(config.db_path()))

    def spot(text: str) -> list[str]:
        return browse.spot(records, normalize(text))

    def support(text: str):
        return retrieval.support(records, normalize(text))

    result = run(held, parses[:len(held)], spot, support)
    if blind:
        result["blind"] = run(blind, parses[len(held):], spot, support)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print_report(result)
    if blind:
        print()
        print_report(result["blind"], "blind")
    return 0


if __name__ == "__main__":
    sys.exit(main())
