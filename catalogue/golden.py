"""Golden answers (as GOV.UK's Smart Answers keeps them): every bundle's checklist rendered as plain text
for no answers, each single answer to each question, and a covering set of combinations in which
every pair of answers to two questions appears at least once (allpairspy). Committed under
tests/golden/, so every content change arrives as a diff of what citizens will read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from allpairspy import AllPairs

from .checklist import Records, bundle_questions, checklist
from .report import checklist_text


@dataclass(frozen=True)
class GoldenPath:
    """One path through a bundle's questions: the answers given, in question order."""

    answers: tuple[tuple[str, str], ...]

    @property
    def label(self) -> str:
        return "无回答" if not self.answers else "，".join(f"{k}={v}" for k, v in self.answers)


def paths(cat: Records, slug: str) -> list[GoldenPath]:
    """No answers; every single answer; every pair of answers of two questions at least once."""
    keys = bundle_questions(cat, slug)
    options = {k: [o["value"] for o in cat["questions"][k]["options"]] for k in keys}
    found = [GoldenPath(())] + [GoldenPath(((k, v),)) for k in keys for v in options[k]]
    if len(keys) >= 2:
        found += [GoldenPath(tuple(zip(keys, row, strict=True))) for row in AllPairs([options[k] for k in keys])]
    return list(dict.fromkeys(found))


def render(cat: Records, slug: str) -> str:
    """The golden file of one bundle: each path's label, then the checklist exactly as citizens read it."""
    parts = [f"# {cat['bundles'][slug]['name']}（{slug}）：每条路径下群众看到的清单\n"]
    for path in paths(cat, slug):
        parts.append(f"\n## 情形：{path.label}\n")
        parts.append(checklist_text(checklist(cat, slug, dict(path.answers))) + "\n")
    return "".join(parts)


def unreached(cat: Records, slug: str) -> list[str]:
    """Question options no golden path reaches: never answered where the question is actually asked."""
    reached: set[tuple[str, str]] = set()
    for path in paths(cat, slug):
        for key, value in path.answers:
            rest = {k: v for k, v in path.answers if k != key}
            asked = next(q for q in checklist(cat, slug, rest)["questions"] if q["key"] == key)
            if asked["relevant"]:
                reached.add((key, value))
    return [f"{slug}: {key}={option['value']}" for key in bundle_questions(cat, slug)
            for option in cat["questions"][key]["options"] if (key, option["value"]) not in reached]


def write_all(cat: Records, folder: Path) -> list[str]:
    """Rewrite every golden file (and drop those of bundles that are gone); the slugs whose file changed."""
    folder.mkdir(parents=True, exist_ok=True)
    changed = []
    for slug in cat["bundles"]:
        path, text = folder / f"{slug}.txt", render(cat, slug)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(slug)
    for stale in folder.glob("*.txt"):
        if stale.stem not in cat["bundles"]:
            stale.unlink()
            changed.append(stale.stem)
    return changed


def changed_paths(old: Records, new: Records) -> list[dict[str, Any]]:
    """Golden paths whose text differs between two catalogues (a bundle added or removed counts whole)."""
    found = []
    for slug in dict.fromkeys([*old["bundles"], *new["bundles"]]):
        if slug not in old["bundles"] or slug not in new["bundles"]:
            found.append({"slug": slug, "path": "（整件事）", "status": "added" if slug in new["bundles"] else "removed"})
            continue
        before = {p: _text(old, slug, p) for p in paths(old, slug)}
        for path in paths(new, slug):
            if before.get(path) != _text(new, slug, path):
                found.append({"slug": slug, "path": path.label, "status": "changed" if path in before else "new"})
    return found


def _text(cat: Records, slug: str, path: GoldenPath) -> str | None:
    try:
        return checklist_text(checklist(cat, slug, dict(path.answers)))
    except ValueError:  # an answer the other catalogue no longer offers
        return None
