"""The review file: messages staff labelled in the console, as Rasa NLU YAML grouped by intent, and
`yishi review merge`, which adds them to the training data (nlu_data/reviewed.yml).

The review file lives outside nlu_data/ (default review/labelled.yml, YISHI_REVIEW_FILE) so nothing
is trained before someone runs the merge; texts in the held-out sets (evaluation/) are
never merged, so the evaluation stays honest.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from assistant.evaluation import load_cases
from chattext import mask_pii, normalize

REVIEW_HEADER = ("# Citizen messages (masked) that staff labelled in the console (/staff/conversations).\n"
                 "# `yishi review merge` adds them to nlu_data/reviewed.yml; held-out texts are refused.\n")
REVIEWED_HEADER = ("# Citizen messages (masked) labelled by staff, merged from the review file by\n"
                   "# `yishi review merge`. Never add texts of the held-out sets in evaluation/ here.\n")


def clean(text: str) -> str:
    """A message as one training example: masked again, on one line, no [..](..) entity markup."""
    text = " ".join(mask_pii(text).split())
    return text.replace("[", "［").replace("]", "］")  # the tokenizer normalises full-width back


def key(text: str) -> str:
    """What makes two texts the same example: 繁/简, width, case, spaces and punctuation aside."""
    return re.sub(r"[\W_]+", "", normalize(text)) or text.strip()


def read(path: Path) -> dict[str, str]:
    """text → intent of a Rasa NLU YAML file ({} when it does not exist)."""
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found: dict[str, str] = {}
    for block in data.get("nlu") or []:
        if not isinstance(block, dict) or "intent" not in block:
            continue
        examples = block.get("examples") or ""
        lines = examples.splitlines() if isinstance(examples, str) else [e.get("text", "") for e in examples]
        for line in lines:
            text = line.strip()
            text = text[2:].strip() if text.startswith("- ") else text
            if text:
                found[text] = block["intent"]
    return found


def write(path: Path, examples: dict[str, str], header: str) -> None:
    """Write text → intent as Rasa NLU YAML, intents in name order; atomically (a reader never sees half)."""
    by_intent: dict[str, list[str]] = {}
    for text, intent in examples.items():
        by_intent.setdefault(intent, []).append(text)
    out = ['version: "3.1"\n', header, "nlu:\n"]
    for intent in sorted(by_intent):
        out.append(f"- intent: {intent}\n  examples: |\n")
        out += [f"    - {text}\n" for text in by_intent[intent]]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text("".join(out), encoding="utf-8")
    os.replace(tmp, path)


def label(path: Path, text: str, intent: str) -> str:
    """Put one labelled text in the review file: "added", "updated" (relabelled) or "unchanged".

    The caller serialises writers (staff_review does it inside a web.db write transaction).
    """
    examples = read(path)
    text = clean(text)
    same = next((t for t in examples if key(t) == key(text)), None)
    if same is not None and examples[same] == intent:
        return "unchanged"
    if same is not None:
        del examples[same]
    examples[text] = intent
    write(path, examples, REVIEW_HEADER)
    return "added" if same is None else "updated"


def heldout_keys(path: Path) -> set[str]:
    """Keys of every text of the held-out sets in path (a file or a folder of them)."""
    return {key(case["text"]) for case in load_cases(path)}


@dataclass
class MergeReport:
    added: list[tuple[str, str]] = field(default_factory=list)
    relabelled: list[tuple[str, str]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (text, why)
    unchanged: int = 0


def merge(review: Path, target: Path, heldout: Path, known: set[str]) -> MergeReport:
    """Add the review file's examples to target (created if missing); every nlu_data file beside it is
    checked so a text is never trained twice or under two intents. known: the intents that exist."""
    report = MergeReport()
    merged = read(target)
    merged_keys = {key(t): t for t in merged}
    elsewhere = {key(t): (intent, other.name) for other in sorted(target.parent.glob("*.yml"))
                 if other.resolve() != target.resolve() for t, intent in read(other).items()}
    held = heldout_keys(heldout)
    for text, intent in read(review).items():
        k, text = key(text), clean(text)
        if k in held:
            report.refused.append((text, "in the held-out set"))
        elif intent not in known:
            report.refused.append((text, f"unknown intent {intent}"))
        elif k in elsewhere:
            other_intent, name = elsewhere[k]
            if other_intent == intent:
                report.unchanged += 1
            else:
                report.refused.append((text, f"already {other_intent} in {name}"))
        elif k in merged_keys and merged[merged_keys[k]] == intent:
            report.unchanged += 1
        else:
            (report.relabelled if k in merged_keys else report.added).append((text, intent))
            merged.pop(merged_keys.get(k, ""), None)
            merged[text] = intent
            merged_keys[k] = text
    if report.added or report.relabelled or not target.exists():
        write(target, merged, REVIEWED_HEADER)
    return report
