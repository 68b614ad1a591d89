"""The console's retraining (issue 16, req 2), run in the background: `python -m web_widget.staff.retrain`.

Steps, each a command whose output goes to <results>/retrain-run.log, the state to <results>/retrain-run.json (the
模型 page shows both while it runs):
1. train: `rasa train` on the live training data (bot/config.yml, the catalogue's generated data, nlu_data) into
   models/candidate/yishi-candidate.tar.gz;
2. evaluate the candidate: `ops.evaluate` (the held-out set, the blind set and the coverage test of every item's
   name, "<item>怎么办/在哪办": the golden routes) and the conversation tests (`rasa test core`);
3. the same for the live model, unless its results for this very file (by digest) are already there.
Results go to <results>/models/<digest>/ (eval.json, conversations/): the page compares candidate and live.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from yishi import models, settings

from . import jobs

STATE, LOG = "retrain-run.json", "retrain-run.log"
STEPS = ("train", "eval_candidate", "conversations_candidate", "eval_live", "conversations_live")


def results_of(results: Path, digest: str) -> Path:
    return results / "models" / digest


def start(results: Path, by: str) -> bool:
    """Start a retraining unless a quality run or a retraining is running; False when one is."""
    if jobs.busy(results):
        return False
    results.mkdir(parents=True, exist_ok=True)
    child = jobs.launch(__name__, ["--results", str(results), "--by", by])
    jobs.write_state(results, {"pid": child.pid, "by": by, "started": time.time(), "finished": None,
                               "steps": {name: "waiting" for name in STEPS}}, STATE)
    return True


def state(results: Path) -> dict | None:
    return jobs.run_state(results, STATE, LOG)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=settings.path("YISHI_RESULTS_DIR"))
    parser.add_argument("--by", default="")
    args = parser.parse_args()
    os.chdir(settings.home())
    run = jobs.Run(args.results, args.by, list(STEPS), STATE, LOG)
    folder = models.candidate_dir()
    folder.mkdir(parents=True, exist_ok=True)
    candidate = folder / models.CANDIDATE
    candidate.unlink(missing_ok=True)
    data = [str(settings.path("YISHI_NLU_DATA")), str(settings.path("YISHI_RASA_DATA_DIR") / "data")]
    # --force: Rasa's cache knows the components' settings and data, not their code (scripts/train.sh)
    trained = run.step("train", [str(Path(sys.executable).with_name("rasa")), "train", "--force", "--config",
                                 str(settings.path("YISHI_BOT_CONFIG")), "--domain",
                                 str(settings.path("YISHI_RASA_DATA_DIR") / "domain"), "--data", *data, "--out", str(folder),
                                 "--fixed-model-name", models.CANDIDATE.removesuffix(".tar.gz"), "--quiet"])
    if not (trained and candidate.exists()):
        for name in STEPS[1:]:
            run.mark(name, "skipped")
        return run.finish(False)
    (folder / "candidate.json").write_text(json.dumps({"by": args.by, "trained": time.time()}, ensure_ascii=False),
                                           encoding="utf-8")
    ok = True
    for who, model in (("candidate", candidate), ("live", models.live_path())):
        out = results_of(args.results, models.digest(model))
        if (out / "eval.json").exists() and (out / "conversations" / "story_report.json").exists():
            run.mark(f"eval_{who}", "kept")  # results of this very model file are already there
            run.mark(f"conversations_{who}", "kept")
            continue
        out.mkdir(parents=True, exist_ok=True)
        ok = run.step(f"eval_{who}", jobs.evaluate_command(model, settings.path("YISHI_EVAL_CASES"), out,
                                                           settings.path("YISHI_EVAL_BLIND"))) and ok
        # rasa test core exits 1 when a story fails: that is a result to compare, not a broken run
        run.step(f"conversations_{who}", jobs.conversations_command(model, settings.path("YISHI_CONVERSATION_STORIES"), out))
    return run.finish(ok)


if __name__ == "__main__":
    sys.exit(main())
