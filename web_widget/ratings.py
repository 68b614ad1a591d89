"""好差评: the five levels of 政务服务"好差评", the reasons a 差评 gives, the follow-up of a 差评 (its status and the
date it is due) and satisfaction figures. Pure: no Flask, no database (web_widget.store keeps the ratings,
web_widget.chat takes them from citizens, web_widget.staff.ratings shows them to staff).

A rating is kept per (conversation, bundle): the conversation id the web app issued and the bundle it answered,
never an address or a browser's name. A 差评 (不满意 or 非常不满意) is due for 整改 and 回复 15 working days after it
was made, counted on the Chinese working-day calendar (catalogue.workdays, the `chinesecalendar` package); in a
year the calendar does not know yet, Monday to Friday are counted and the date is marked 推算.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from catalogue import workdays
from chattext import guard

# level → label, best first; the levels are what the API takes and the store keeps
LEVELS: dict[int, str] = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
POOR = (2, 1)  # 差评
SATISFIED = (5, 4, 3)  # counted as satisfied in the 满意率, as the national 好差评 system counts it

REASONS: dict[str, str] = {
    "wrong_bundle": "没有说到我要办的事",
    "materials": "材料清单不准确或不全",
    "unclear": "说得不清楚，看不懂",
    "process": "要跑的次数多、流程繁琐",
    "other": "其他",
}
TEXT_MAX = 200  # characters of the optional sentence

DUE_WORKING_DAYS = 15
STATUSES: dict[str, str] = {"pending": "待处理", "rectified": "已整改", "replied": "已回复"}
NEXT_STATUS = {"pending": "rectified", "rectified": "replied"}  # only forward, one step at a time
CLOSED = "replied"


class BadRating(ValueError):
    """A rating that cannot be taken; the message is for the citizen."""


@dataclass(frozen=True)
class Rating:
    bundle: str
    level: int
    reasons: tuple[str, ...] = ()
    text: str = ""

    @property
    def poor(self) -> bool:
        return self.level in POOR


def parse(body: object) -> Rating:
    """A rating from the JSON body {"bundle": slug, "level": 1–5, "reasons": [...], "text": "…"}. Reasons and text
    belong to a 差评 only (a good rating keeps neither); the text is masked like every chat text."""
    if not isinstance(body, dict):
        raise BadRating("请选择您的评价。")
    bundle, level = body.get("bundle"), body.get("level")
    if not isinstance(bundle, str) or not bundle or len(bundle) > 255:
        raise BadRating("请说明您评价的是哪一份清单。")
    if isinstance(level, bool) or level not in LEVELS:
        raise BadRating("请从“非常满意”到“非常不满意”中选择一项。")
    if level not in POOR:
        return Rating(bundle, level)
    reasons = body.get("reasons", [])
    if not isinstance(reasons, list) or not all(isinstance(r, str) and r in REASONS for r in reasons):
        raise BadRating("请从列出的原因中选择。")
    text = body.get("text") or ""
    if not isinstance(text, str):
        raise BadRating("请用文字说明原因。")
    if len(text) > TEXT_MAX:
        raise BadRating(f"您写了{len(text)}个字，请精简到{TEXT_MAX}字以内。")
    text = guard(text)  # masked (身份证号, 手机号, 银行卡号), control characters out, as chat texts are
    if not reasons and not text:
        raise BadRating("请告诉我们哪里不满意：选一个原因，或写一句话。")
    return Rating(bundle, level, tuple(r for r in REASONS if r in reasons), text)


@dataclass(frozen=True)
class Due:
    date: dt.date
    estimated: bool  # 推算: a day fell in a year the holiday calendar has no data for; Monday–Friday counted


def day_of(timestamp: float) -> dt.date:
    """The day in Beijing time of a timestamp (the server may run on UTC)."""
    return dt.datetime.fromtimestamp(timestamp, workdays.CHINA).date()


def due(opened: dt.date) -> Due:
    """The day a 差评 made on `opened` must be dealt with by: DUE_WORKING_DAYS Chinese working days later."""
    finish = workdays.finish(opened, DUE_WORKING_DAYS)
    return Due(finish.date, finish.approximate)


@dataclass
class Tally:
    """Ratings of one week or one bundle: a count per level and the satisfaction rate."""

    key: object
    counts: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def poor(self) -> int:
        return sum(self.counts[level] for level in POOR)

    @property
    def rate(self) -> float | None:
        """满意率: 非常满意, 满意 and 基本满意 over all ratings (None when there are none)."""
        return sum(self.counts[level] for level in SATISFIED) / self.total if self.total else None


Counted = tuple[dt.date, str, int, int]  # (day in Beijing time, bundle, level, count)


def per_week(counted: Iterable[Counted], start: dt.date, end: dt.date) -> list[Tally]:
    """Every week (from Monday) touching start..end, zeros included; the key is the week's Monday."""
    first = start - dt.timedelta(start.weekday())
    weeks = {first + dt.timedelta(7 * n): Tally(first + dt.timedelta(7 * n)) for n in range((end - first).days // 7 + 1)}
    for day, _, level, n in counted:
        if start <= day <= end:
            weeks[day - dt.timedelta(day.weekday())].counts[level] += n
    return list(weeks.values())


def per_bundle(counted: Iterable[Counted]) -> list[Tally]:
    """One tally per bundle rated; the lowest satisfaction first (then the most ratings), where to look first."""
    bundles: dict[str, Tally] = {}
    for _, bundle, level, n in counted:
        bundles.setdefault(bundle, Tally(bundle)).counts[level] += n
    return sorted(bundles.values(), key=lambda t: (t.rate if t.rate is not None else 1.0, -t.total, t.key))
