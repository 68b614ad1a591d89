"""What a new catalogue changes for citizens, bundle by bundle, compared with the one serving now."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .checklist import Records, bundle_questions, checklist
from .sources import KINDS

PROVENANCE = ("source", "checked", "file")  # record fields no citizen sees
# Every key of a checklist is in exactly one of these (a test holds them against checklist()):
# compared as a whole; compared in detail (Delta, "figures"); or not a change citizens see.
FIELDS = ("name", "summary", "conditions", "lead_department", "questions", "departments", "channels",
          "mechanisms", "step_names", "online_full", "fee", "agent", "family", "stage", "time_limit", "basis",
          "name_en", "summary_en", "next")
DETAILED = ("materials", "items", "before", "after", "saving")
NOT_COMPARED = ("slug", "notice", "sources", "checked", "finish")  # id, fixed wording, provenance, today


@dataclass
class Delta:
    """How one checklist differs from another: names of what was added or removed, figures old → new."""

    materials_added: list[str] = field(default_factory=list)
    materials_removed: list[str] = field(default_factory=list)
    items_added: list[str] = field(default_factory=list)
    items_removed: list[str] = field(default_factory=list)
    working_days: tuple[int | None, int | None] | None = None  # the bundle's (after) working days
    visits: tuple[int | None, int | None] | None = None

    def __bool__(self) -> bool:
        return any((self.materials_added, self.materials_removed, self.items_added, self.items_removed,
                    self.working_days, self.visits))


@dataclass
class Situation:
    """A change that shows only when a citizen gives one answer (a condition changed)."""

    question: str
    answer: str
    delta: Delta


@dataclass
class BundleChange:
    """One bundle whose checklist changes for citizens."""

    slug: str
    name: str
    status: str  # added | removed | changed
    delta: Delta
    old_name: str | None = None  # set when the bundle was renamed
    materials_changed: list[str] = field(default_factory=list)  # same material, other counts, notes or 如适用
    items_changed: list[str] = field(default_factory=list)  # same item, other days, department or 如适用
    fields: list[str] = field(default_factory=list)  # other checklist keys that changed (see FIELDS, `steps`)
    situations: list[Situation] = field(default_factory=list)


@dataclass
class RecordChanges:
    """Record ids of one kind that were added, removed, changed, or changed only in provenance."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    provenance_only: list[str] = field(default_factory=list)  # only source, checked or file differ

    def __len__(self) -> int:
        return len(self.added) + len(self.removed) + len(self.changed) + len(self.provenance_only)


@dataclass
class Diff:
    """Every bundle change citizens will see, and every record change behind them."""

    bundles: list[BundleChange]
    records: dict[str, RecordChanges]
    unchanged_bundles: int

    @property
    def record_count(self) -> int:
        return sum(len(r) for r in self.records.values())

    @property
    def provenance_only(self) -> int:
        return sum(len(r.provenance_only) for r in self.records.values())


def record_changes(old: Records, new: Records) -> dict[str, RecordChanges]:
    """Kind → the ids that differ between two catalogues (cheap: no checklists computed)."""
    result = {}
    for kind in KINDS:
        before, after, changes = old.get(kind, {}), new.get(kind, {}), RecordChanges()
        changes.added = [i for i in after if i not in before]
        changes.removed = [i for i in before if i not in after]
        for record_id in (i for i in after if i in before and after[i] != before[i]):
            same = _without_provenance(after[record_id]) == _without_provenance(before[record_id])
            (changes.provenance_only if same else changes.changed).append(record_id)
        result[kind] = changes
    return result


def _without_provenance(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in PROVENANCE}


def diff(old: Records, new: Records) -> Diff:
    """What changes for citizens: each bundle's checklist with no answers, and with each single answer."""
    empty = {kind: {} for kind in KINDS}
    old, new = old or empty, new or empty
    bundles, unchanged = [], 0
    for slug in new["bundles"]:
        if slug not in old["bundles"]:
            bundles.append(_whole(slug, checklist(new, slug), "added"))
            continue
        change = _bundle_change(old, new, slug)
        if change is None:
            unchanged += 1
        else:
            bundles.append(change)
    bundles += [_whole(slug, checklist(old, slug), "removed") for slug in old["bundles"] if slug not in new["bundles"]]
    return Diff(bundles, record_changes(old, new), unchanged)


def _whole(slug: str, result: dict, status: str) -> BundleChange:
    """A bundle that was added (everything new) or removed (everything gone)."""
    materials, items = [m["name"] for m in result["materials"]], [i["name"] for i in result["items"]]
    days, visits = result["after"]["working_days"], result["after"]["visits"]
    if status == "added":
        delta = Delta(materials, [], items, [], (None, days), (None, visits))
    else:
        delta = Delta([], materials, [], items, (days, None), (visits, None))
    return BundleChange(slug, result["name"], status, delta)


def _bundle_change(old: Records, new: Records, slug: str) -> BundleChange | None:
    before, after = checklist(old, slug), checklist(new, slug)
    change = BundleChange(slug, after["name"], "changed", _delta(before, after))
    if before["name"] != after["name"]:
        change.old_name = before["name"]
    change.materials_changed = _changed(before["materials"], after["materials"])
    change.items_changed = _changed(before["items"], after["items"])
    change.fields = [k for k in FIELDS if _visible(k, before[k]) != _visible(k, after[k])]
    if before["after"]["steps"] != after["after"]["steps"] or before["before"] != after["before"]:
        change.fields.append("figures")
    change.situations = _situations(old, new, slug, change.delta)
    visible = (change.delta, change.materials_changed, change.items_changed, change.fields, change.situations)
    return change if any(visible) else None


def _visible(key: str, value: Any) -> Any:
    """What citizens read of a field: the basis and the time limit as their sentences."""
    return value["text"] if key in ("basis", "time_limit") else value


def _delta(before: dict, after: dict) -> Delta:
    delta = Delta()
    delta.materials_added, delta.materials_removed = _added_removed(before["materials"], after["materials"])
    delta.items_added, delta.items_removed = _added_removed(before["items"], after["items"])
    for figure in ("working_days", "visits"):
        if before["after"][figure] != after["after"][figure]:
            setattr(delta, figure, (before["after"][figure], after["after"][figure]))
    return delta


def _added_removed(before: list[dict], after: list[dict]) -> tuple[list[str], list[str]]:
    """Names of the entries (by id) only in after, and only in before."""
    old_ids, new_ids = {e["id"] for e in before}, {e["id"] for e in after}
    return [e["name"] for e in after if e["id"] not in old_ids], [e["name"] for e in before if e["id"] not in new_ids]


def _changed(before: list[dict], after: list[dict]) -> list[str]:
    """Names of the entries in both whose view differs."""
    old = {e["id"]: e for e in before}
    return [e["name"] for e in after if e["id"] in old and old[e["id"]] != e]


def _situations(old: Records, new: Records, slug: str, default: Delta) -> list[Situation]:
    """Single answers under which more changes than with no answers (a condition changed)."""
    old_keys = set(bundle_questions(old, slug))
    found = []
    for key in bundle_questions(new, slug):
        if key not in old_keys:
            continue  # a new question shows up in `questions`; its answers have nothing to compare with
        old_values = {o["value"] for o in old["questions"][key]["options"]}
        for option in new["questions"][key]["options"]:
            if option["value"] not in old_values:
                continue
            answer = {key: option["value"]}
            delta = _beyond(_delta(checklist(old, slug, answer), checklist(new, slug, answer)), default)
            if delta:
                found.append(Situation(new["questions"][key]["text"], option["label"], delta))
    return found


def _beyond(delta: Delta, default: Delta) -> Delta:
    """The part of delta that the change with no answers does not already show."""
    return Delta(
        [m for m in delta.materials_added if m not in default.materials_added],
        [m for m in delta.materials_removed if m not in default.materials_removed],
        [i for i in delta.items_added if i not in default.items_added],
        [i for i in delta.items_removed if i not in default.items_removed],
        delta.working_days if delta.working_days != default.working_days else None,
        delta.visits if delta.visits != default.visits else None,
    )
