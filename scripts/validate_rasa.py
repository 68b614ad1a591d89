"""`rasa data validate` on the hand-written and generated data; fails on errors and on any warning
that is not on the allow-list below (each entry says why it is expected)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
EXPECTED = {
    # sent only by Yishi's own buttons: typed text must never be classified as these
    "The intent 'answer_question' is listed in the domain file, but is not found in the NLU training data.",
    "The intent 'choose_bundle' is listed in the domain file, but is not found in the NLU training data.",
    # uttered by actions, not by rules
    "The utterance 'utter_no_context' is not used in any story or rule.",
    "The utterance 'utter_start_over' is not used in any story or rule.",
    "The utterance 'utter_pick_an_option' is not used in any story or rule.",
}


def main() -> int:
    env = os.environ | {"RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    done = subprocess.run(
        [str(PROJECT / ".venv/bin/rasa"), "data", "validate", "--config", "bot/config.yml",
         "--domain", "build/rasa/domain", "--data", "nlu_data", "build/rasa/data"],
        cwd=PROJECT, env=env, capture_output=True, text=True, check=False)
    output = done.stdout + done.stderr
    warnings = set(re.findall(r"UserWarning: (.*?)\s*$", output, flags=re.M))
    unexpected = sorted(warnings - EXPECTED)
    for warning in unexpected:
        print(f"unexpected warning: {warning}")
    if done.returncode != 0:
        print(output[-3000:])
    ok = done.returncode == 0 and not unexpected
    print(f"rasa data validate: {'ok' if ok else 'FAILED'} ({len(warnings)} warnings, {len(unexpected)} unexpected)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
