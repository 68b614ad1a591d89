"""Expected finish dates in Chinese working days, holidays and 调休 included (chinesecalendar's data)."""

from __future__ import annotations

import datetime as dt

from catalogue.workdays import finish

D = dt.date


def test_national_day_week_is_skipped_and_the_make_up_saturday_counts():
    # 2025: 10-01..10-08 off; Sunday 09-28 and Saturday 10-11 are working days (调休)
    assert finish(D(2025, 9, 30), 1).date == D(2025, 10, 9)
    assert finish(D(2025, 9, 30), 3).date == D(2025, 10, 11)  # 10-09, 10-10, then the make-up Saturday
    assert finish(D(2025, 9, 27), 1).date == D(2025, 9, 28)  # a Sunday that is a working day


def test_spring_festival_is_skipped():
    # 2026 春节: 02-15..02-23 off; Saturday 02-14 and 02-28 are working days
    assert finish(D(2026, 2, 13), 1).date == D(2026, 2, 14)
    assert finish(D(2026, 2, 14), 1).date == D(2026, 2, 24)
    assert not finish(D(2026, 2, 14), 1).approximate


def test_zero_days_is_today_and_the_text_says_so():
    result = finish(D(2026, 12, 2), 0)
    assert result.date == D(2026, 12, 2) and result.text(D(2026, 12, 2)) == "今天提交，预计今天前办结"
    assert finish(D(2026, 12, 2), 5).text(D(2026, 12, 2)) == "今天提交，预计12月9日前办结"


def test_beyond_the_known_years_weekdays_are_counted_and_the_citizen_is_told():
    result = finish(D(2026, 12, 28), 5)  # runs into 2027, which the calendar does not know yet
    assert result.date == D(2027, 1, 4) and result.approximate
    assert "2027年的法定节假日安排尚未收录，按周一至周五推算" in result.text(D(2026, 12, 28))
