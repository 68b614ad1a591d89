"""Expected finish dates in Chinese working days: weekends, public holidays and 调休 make-up days
come from the maintained `chinesecalendar` library; for years it does not know yet, weekdays are
counted and the citizen is told so."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import chinese_calendar

CHINA = ZoneInfo("Asia/Shanghai")


def today() -> dt.date:
    """Today in China (the server may run on UTC)."""
    return dt.datetime.now(CHINA).date()


@dataclass(frozen=True)
class Finish:
    date: dt.date
    approximate: bool  # some day fell in a year whose holidays the calendar does not know yet

    def text(self, start: dt.date) -> str:
        when = "今天" if self.date == start else f"{self.date.month}月{self.date.day}日"
        line = f"今天提交，预计{when}前办结"
        if self.approximate:
            line += f"（{self.date.year}年的法定节假日安排尚未收录，按周一至周五推算，遇节假日顺延）"
        return line


@functools.lru_cache(maxsize=4096)  # a pure function of the day: every checklist counts the same weeks again
def is_workday(day: dt.date) -> tuple[bool, bool]:
    """(is a working day, known from the holiday calendar rather than guessed from the weekday)."""
    try:
        return chinese_calendar.is_workday(day), True
    except NotImplementedError:  # a year the library has no data for
        return day.weekday() < 5, False


def finish(start: dt.date, working_days: int) -> Finish:
    """The day the last of working_days working days after start ends (start itself when 0)."""
    day, left, approximate = start, working_days, False
    while left > 0:
        day += dt.timedelta(days=1)
        workday, known = is_workday(day)
        approximate = approximate or not known
        left -= workday
    return Finish(day, approximate)
