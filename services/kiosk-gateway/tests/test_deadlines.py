"""Deadlines against the real Kazakhstan calendars of 2025 and 2026.

Every expected date below was counted by hand on a paper calendar. The days off used:

2025: 1-2 Jan (Wed-Thu); 3 Jan Fri off, moved from Sun 5 Jan, which was a working day (Ministry
of Labour order for 2025); 7 Jan (Orthodox Christmas, Tue); 8 Mar Sat -> Mon 10 Mar off;
Nauryz 21-23 Mar (Fri-Sun) -> Mon 24 and Tue 25 Mar off; 1 May (Thu); 7 May (Wed); 9 May (Fri);
6 Jun (Kurban ait, Fri); 6 Jul Sun -> Mon 7 Jul; 30 Aug Sat -> Mon 1 Sep; 25 Oct Sat ->
Mon 27 Oct; 16 Dec (Tue).

2026: 1-2 Jan (Thu-Fri), 3-4 Jan weekend, 5-6 Jan working; 7 Jan (Wed); 8 Mar Sun -> Mon 9 Mar;
Nauryz 21-23 Mar (Sat-Mon) -> Tue 24 and Wed 25 Mar off; 1 May (Fri); 7 May (Thu); 9 May Sat ->
Mon 11 May; 27 May (Kurban ait, Wed); 6 Jul (Mon); 25 Oct Sun -> Mon 26 Oct; 16 Dec (Wed).
(2026 has no Constitution Day: the new Constitution moves it to 15 March from 2027, and the
tests below stay clear of late August 2026.)

"dN" in the comments marks the N-th working day counted.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from kiosk_gateway.deadlines import (
    Deadlines,
    add_working_days,
    compute_deadlines,
    is_working_day,
    next_working_day,
    working_days_between,
)

ALMATY = ZoneInfo("Asia/Almaty")


def almaty(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=ALMATY)


def test_almaty_is_utc_plus_5() -> None:
    # Kazakhstan moved to a single UTC+5 zone on 1 March 2024. A stale tz database (before
    # tzdata 2024a) still says +6 and would put 18:00-19:00 UTC on the wrong Almaty day.
    assert almaty(2026, 2, 6).utcoffset() == timedelta(hours=5)


def test_plain_monday() -> None:
    # Mon 2 Feb 2026, no holidays in February: d1-4 = 3-6 Feb, d5-9 = 9-13, d10-14 = 16-20,
    # d15 = Mon 23 Feb (23 Feb is not a holiday in Kazakhstan). Control: 2 Feb + 14 = 16 Feb.
    assert compute_deadlines(almaty(2026, 2, 2)) == Deadlines(date(2026, 2, 16), date(2026, 2, 23))


FRIDAY_6_FEB_2026 = Deadlines(control_date=date(2026, 2, 20), legal_deadline=date(2026, 2, 27))
# Fri 6 Feb 2026: d1-5 = 9-13 Feb, d6-10 = 16-20, d11-15 = 23-27 -> Fri 27 Feb; control 20 Feb.


def test_friday_evening_almaty() -> None:
    assert compute_deadlines(almaty(2026, 2, 6, 23, 30)) == FRIDAY_6_FEB_2026
    assert compute_deadlines(almaty(2026, 2, 6, 23, 59)) == FRIDAY_6_FEB_2026


def test_friday_evening_same_instant_in_utc() -> None:
    # 23:30 Almaty (UTC+5) = 18:30 UTC: the same instant, the same Friday.
    assert compute_deadlines(datetime(2026, 2, 6, 18, 30, tzinfo=UTC)) == FRIDAY_6_FEB_2026


def test_friday_in_utc_but_already_saturday_in_almaty() -> None:
    # 19:30 UTC Friday = 00:30 Saturday 7 Feb in Almaty: a day off, so it counts from Mon 9 Feb:
    # d1-4 = 10-13 Feb, d5-9 = 16-20, d10-14 = 23-27, d15 = Mon 2 Mar. Control 7 Feb + 14 = 21 Feb.
    expected = Deadlines(control_date=date(2026, 2, 21), legal_deadline=date(2026, 3, 2))
    assert compute_deadlines(datetime(2026, 2, 6, 19, 30, tzinfo=UTC)) == expected
    assert compute_deadlines(almaty(2026, 2, 7, 0, 30)) == expected


def test_naive_datetime_refused() -> None:
    with pytest.raises(ValueError):
        compute_deadlines(datetime(2026, 2, 6, 23, 30))


@pytest.mark.parametrize(
    ("registered", "control"),
    [
        (almaty(2026, 2, 7), date(2026, 2, 21)),  # Saturday
        (almaty(2026, 2, 8), date(2026, 2, 22)),  # Sunday
        (almaty(2026, 2, 9), date(2026, 2, 23)),  # the Monday they count as
    ],
)
def test_weekend_counts_from_monday(registered: datetime, control: date) -> None:
    # Sat/Sun count as registered on Mon 9 Feb, so all three share the Monday's deadline:
    # d1-4 = 10-13 Feb, d5-9 = 16-20, d10-14 = 23-27, d15 = Mon 2 Mar. The control date keeps
    # the real registration day (the receipt promises 14 days from the day it was printed).
    assert compute_deadlines(registered) == Deadlines(control, date(2026, 3, 2))


@pytest.mark.parametrize(
    ("registered", "control", "legal"),
    [
        # Nauryz 2026. Wed 18 Mar: d1 = Thu 19, d2 = Fri 20, 21-25 off, d3 = Thu 26, d4 = Fri 27,
        # d5-9 = 30 Mar-3 Apr, d10-14 = 6-10 Apr, d15 = Mon 13 Apr. Control 18 Mar + 14 = 1 Apr.
        (almaty(2026, 3, 18), date(2026, 4, 1), date(2026, 4, 13)),
        # On Nauryz itself, Mon 23 Mar 2026: next working day is Thu 26 Mar; from there d1 = 27,
        # d2-6 = 30 Mar-3 Apr, d7-11 = 6-10 Apr, d12-15 = 13-16 Apr. Control 23 Mar + 14 = 6 Apr.
        (almaty(2026, 3, 23), date(2026, 4, 6), date(2026, 4, 16)),
        # Nauryz 2025. Thu 20 Mar: 21-25 off, d1-3 = 26-28 Mar, d4-8 = 31 Mar-4 Apr,
        # d9-13 = 7-11 Apr, d14 = 14 Apr, d15 = Tue 15 Apr. Control 20 Mar + 14 = 3 Apr.
        (almaty(2025, 3, 20), date(2025, 4, 3), date(2025, 4, 15)),
        # 8 March 2025 (Sat -> Mon 10 Mar off) and then Nauryz. Fri 7 Mar: 8-10 off,
        # d1-4 = 11-14 Mar, d5-8 = 17-20, 21-25 off, d9-11 = 26-28, d12-15 = 31 Mar-3 Apr.
        # Control 7 Mar + 14 = Fri 21 Mar (which is a holiday: the rule is calendar days).
        (almaty(2025, 3, 7), date(2025, 3, 21), date(2025, 4, 3)),
        # 8 March 2026 (Sun -> Mon 9 Mar off). Fri 6 Mar: 7-9 off, d1-4 = 10-13 Mar,
        # d5-9 = 16-20, 21-25 off, d10-11 = 26-27, d12-15 = 30 Mar-2 Apr. Control 20 Mar.
        (almaty(2026, 3, 6), date(2026, 3, 20), date(2026, 4, 2)),
        # Victory Day 2025. Tue 6 May: 7 off, d1 = Thu 8, 9 off, d2-6 = 12-16, d7-11 = 19-23,
        # d12-15 = 26-29 May. Control 6 May + 14 = 20 May.
        (almaty(2025, 5, 6), date(2025, 5, 20), date(2025, 5, 29)),
        # Victory Day 2026. Mon 4 May: d1-2 = 5-6, 7 off, d3 = Fri 8, 9-11 off (Sat, Sun,
        # observed Mon), d4-7 = 12-15, d8-12 = 18-22, d13-14 = 25-26, 27 Kurban ait,
        # d15 = Thu 28 May. Control 4 May + 14 = 18 May.
        (almaty(2026, 5, 4), date(2026, 5, 18), date(2026, 5, 28)),
        # On 1 May 2026 (Fri, holiday): next working day Mon 4 May, then as above.
        # Control 1 May + 14 = 15 May.
        (almaty(2026, 5, 1), date(2026, 5, 15), date(2026, 5, 28)),
        # Republic Day 2025 (Sat 25 Oct -> Mon 27 Oct off). Wed 22 Oct: d1-2 = 23-24,
        # 25-27 off, d3-6 = 28-31 Oct, d7-11 = 3-7 Nov, d12-15 = 10-13 Nov. Control 5 Nov.
        (almaty(2025, 10, 22), date(2025, 11, 5), date(2025, 11, 13)),
        # Republic Day 2026 (Sun 25 Oct -> Mon 26 Oct off). Fri 23 Oct: 24-26 off,
        # d1-4 = 27-30 Oct, d5-9 = 2-6 Nov, d10-14 = 9-13 Nov, d15 = Mon 16 Nov. Control 6 Nov.
        (almaty(2026, 10, 23), date(2026, 11, 6), date(2026, 11, 16)),
        # On Sun 25 Oct 2026 itself: Mon 26 is off too, so it counts as Tue 27 Oct:
        # d1-3 = 28-30 Oct, d4-8 = 2-6 Nov, d9-13 = 9-13 Nov, d14-15 = 16-17 Nov. Control 8 Nov.
        (almaty(2026, 10, 25), date(2026, 11, 8), date(2026, 11, 17)),
        # Independence Day 2025 (Tue 16 Dec). Mon 8 Dec: d1-4 = 9-12 Dec, d5 = 15, 16 off,
        # d6-8 = 17-19, d9-13 = 22-26, d14-15 = 29-30 Dec. Control 22 Dec.
        (almaty(2025, 12, 8), date(2025, 12, 22), date(2025, 12, 30)),
        # Independence Day into New Year 2026. Mon 15 Dec 2025: 16 off, d1-3 = 17-19,
        # d4-8 = 22-26, d9-11 = 29-31 Dec, 1-4 Jan off, d12-13 = 5-6 Jan, 7 Jan off,
        # d14-15 = 8-9 Jan 2026. Control 15 Dec + 14 = 29 Dec.
        (almaty(2025, 12, 15), date(2025, 12, 29), date(2026, 1, 9)),
        # 1-2 January 2026. Wed 31 Dec 2025: 1-4 Jan off, d1-2 = 5-6 Jan, 7 off, d3-4 = 8-9,
        # d5-9 = 12-16, d10-14 = 19-23, d15 = Mon 26 Jan. Control 31 Dec + 14 = 14 Jan.
        (almaty(2025, 12, 31), date(2026, 1, 14), date(2026, 1, 26)),
    ],
)
def test_spans_crossing_holidays(registered: datetime, control: date, legal: date) -> None:
    assert compute_deadlines(registered) == Deadlines(control, legal)


def test_new_year_2025_with_working_sunday() -> None:
    # Tue 31 Dec 2024: 1-3 Jan off (3 Jan moved from Sun 5 Jan), Sat 4 Jan off,
    # d1 = Sun 5 Jan (working by the order), d2 = Mon 6, 7 Jan Christmas, d3-5 = 8-10 Jan,
    # d6-10 = 13-17 Jan, d11-15 = 20-24 Jan -> Fri 24 Jan. Without the working Sunday it would
    # be Mon 27 Jan. Control 31 Dec + 14 = 14 Jan.
    expected = Deadlines(control_date=date(2025, 1, 14), legal_deadline=date(2025, 1, 24))
    assert compute_deadlines(almaty(2024, 12, 31)) == expected


@pytest.mark.parametrize(
    ("registered", "control"),
    [
        # On the working Sunday itself: it is a working day, counting starts Mon 6 Jan:
        # d1 = 6, 7 off, d2-4 = 8-10, d5-9 = 13-17, d10-14 = 20-24, d15 = Mon 27 Jan.
        (almaty(2025, 1, 5), date(2025, 1, 19)),
        # On the transferred day off (Fri 3 Jan): counts as the next working day, Sun 5 Jan.
        (almaty(2025, 1, 3), date(2025, 1, 17)),
    ],
)
def test_transferred_days_2025(registered: datetime, control: date) -> None:
    assert compute_deadlines(registered) == Deadlines(control, date(2025, 1, 27))


def test_working_day_predicates_on_transfers() -> None:
    assert not is_working_day(date(2025, 1, 3))  # Friday, day off moved from Sunday
    assert is_working_day(date(2025, 1, 5))  # Sunday, working in exchange
    assert not is_working_day(date(2025, 1, 4))  # an ordinary Saturday
    assert not is_working_day(date(2025, 3, 24))  # Monday, observed Nauryz
    assert not is_working_day(date(2026, 5, 11))  # Monday, observed Victory Day
    assert is_working_day(date(2026, 1, 5))  # Monday after New Year, no transfer in 2026
    assert not is_working_day(date(2026, 1, 7))  # Christmas, a Wednesday
    assert is_working_day(date(2026, 2, 23))  # not a holiday in Kazakhstan
    # The 2014 New Year transfer was paid for by working Saturday 28 Dec 2013: a weekend workday
    # declared in the following year's decree.
    assert is_working_day(date(2013, 12, 28))
    assert not is_working_day(date(2014, 1, 3))


def test_agrees_with_the_library_predicate() -> None:
    cal = holidays.country_holidays("KZ", years=range(2013, 2028))
    d = date(2013, 1, 1)
    while d <= date(2027, 12, 31):
        assert is_working_day(d) == cal.is_working_day(d), d
        d += timedelta(days=1)


def test_next_working_day() -> None:
    assert next_working_day(date(2026, 5, 8)) == date(2026, 5, 12)  # Fri -> Sat, Sun, off Mon
    assert next_working_day(date(2026, 5, 5)) == date(2026, 5, 6)  # strictly after
    assert next_working_day(date(2025, 1, 2)) == date(2025, 1, 5)  # the working Sunday
    assert next_working_day(date(2025, 12, 31)) == date(2026, 1, 5)


def test_add_working_days_and_redirect_window() -> None:
    # 3-working-day redirect window from Mon 4 May 2026: Tue 5, Wed 6, (Thu 7 off), Fri 8.
    assert add_working_days(date(2026, 5, 4), 3) == date(2026, 5, 8)
    assert working_days_between(date(2026, 5, 4), date(2026, 5, 8)) == 3
    assert working_days_between(date(2026, 5, 4), date(2026, 5, 11)) == 3  # 9-11 May all off
    assert working_days_between(date(2026, 5, 4), date(2026, 5, 12)) == 4
    # Across Nauryz 2026: Fri 20 Mar -> the next working day is Thu 26 Mar.
    assert add_working_days(date(2026, 3, 20), 1) == date(2026, 3, 26)
    assert add_working_days(date(2026, 3, 26), -1) == date(2026, 3, 20)
    assert working_days_between(date(2026, 3, 26), date(2026, 3, 20)) == -1
    assert working_days_between(date(2026, 3, 20), date(2026, 3, 20)) == 0
    # n = 0 leaves the day alone, even a day off.
    assert add_working_days(date(2026, 3, 23), 0) == date(2026, 3, 23)


def test_add_and_between_are_inverse() -> None:
    start = date(2024, 12, 20)
    for offset in range(0, 500, 7):
        a = start + timedelta(days=offset)
        for n in (1, 3, 15, 40):
            b = add_working_days(a, n)
            assert is_working_day(b)
            assert working_days_between(a, b) == n
            if is_working_day(a):
                assert add_working_days(b, -n) == a


def test_control_date_never_capped_with_the_real_rules() -> None:
    # The cap cannot bind with 14 calendar days against 15 working days: the 15 working days are
    # 15 distinct days after the registration date, so the deadline is at least 15 days later.
    # Checked exhaustively over two years, at both ends of the Almaty day.
    d = date(2025, 1, 1)
    while d <= date(2026, 12, 31):
        for hh, mm in ((0, 0), (23, 59)):
            result = compute_deadlines(almaty(d.year, d.month, d.day, hh, mm))
            assert result.control_date == d + timedelta(days=14)
            assert result.legal_deadline >= d + timedelta(days=15)
        d += timedelta(days=1)


def test_control_date_capped_by_legal_deadline() -> None:
    # Injected rules where the cap binds. Mon 2 Feb 2026 + 30 calendar days = 4 Mar, but 15
    # working days end Mon 23 Feb (see test_plain_monday): the promise must not pass the law.
    capped = compute_deadlines(almaty(2026, 2, 2), control_days=30)
    assert capped == Deadlines(control_date=date(2026, 2, 23), legal_deadline=date(2026, 2, 23))
    # Or a shorter legal period: 5 working days from Mon 2 Feb = Mon 9 Feb < 16 Feb.
    shorter = compute_deadlines(almaty(2026, 2, 2), legal_working_days=5)
    assert shorter == Deadlines(control_date=date(2026, 2, 9), legal_deadline=date(2026, 2, 9))
