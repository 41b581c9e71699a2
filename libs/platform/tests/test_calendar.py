"""The shared working-day calendar against dates counted by hand on the 2025-2026 calendars.

The gateway's deadline tests (services/kiosk-gateway/tests/test_deadlines.py) cover the same
functions through the control date and legal deadline; these check the calendar on its own,
as routing uses it (the 3-working-day redirect window, reminders N working days ahead).
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import holidays
import pytest

from dialog_platform.calendar import (
    ALMATY,
    TABLE,
    add_working_days,
    is_working_day,
    local_date,
    next_working_day,
    table_text,
    working_days_between,
)


def test_days_off_and_transferred_working_days() -> None:
    assert not is_working_day(date(2026, 3, 24))  # Tue, observed Nauryz (21 Mar was a Saturday)
    assert not is_working_day(date(2026, 5, 11))  # Mon, observed Victory Day
    assert is_working_day(date(2025, 1, 5))  # Sunday made working in exchange for Fri 3 Jan
    assert not is_working_day(date(2025, 1, 3))
    assert is_working_day(date(2026, 2, 23))  # an ordinary Monday in Kazakhstan


def test_agrees_with_the_library_over_two_years() -> None:
    cal = holidays.country_holidays("KZ", years=range(2025, 2027))
    d = date(2025, 1, 1)
    while d <= date(2026, 12, 31):
        assert is_working_day(d) == cal.is_working_day(d), d
        d += timedelta(days=1)


def test_counting_across_holidays() -> None:
    assert next_working_day(date(2026, 5, 8)) == date(2026, 5, 12)  # Sat, Sun, observed Mon
    # Reminder 3 working days before a Thu 28 May 2026 control date: Wed 27 May is Kurban ait,
    # so d-1 = Tue 26, d-2 = Mon 25, d-3 = Fri 22 May.
    assert add_working_days(date(2026, 5, 28), -3) == date(2026, 5, 22)
    # Redirect window from Mon 4 May 2026: Tue 5, Wed 6, (Thu 7 off), Fri 8 is the third day.
    assert working_days_between(date(2026, 5, 4), date(2026, 5, 8)) == 3
    assert working_days_between(date(2026, 5, 4), date(2026, 5, 12)) == 4
    assert working_days_between(date(2026, 5, 12), date(2026, 5, 4)) == -4


def test_local_date_is_almaty() -> None:
    assert local_date(datetime(2026, 2, 6, 19, 30, tzinfo=UTC)) == date(2026, 2, 7)
    assert local_date(datetime(2026, 2, 6, 23, 59, tzinfo=ALMATY)) == date(2026, 2, 6)
    with pytest.raises(ValueError):
        local_date(datetime(2026, 2, 6, 12, 0))


def test_the_table_holds_the_installed_librarys_days() -> None:
    assert TABLE.read_text(encoding="utf-8") == table_text(), (
        f"{TABLE.name} differs from the installed holidays library: "
        "run `python -m dialog_platform.calendar` and review the diff"
    )


def test_counting_loads_no_library_and_a_year_past_the_table_loads_no_other_country() -> None:
    # A fresh interpreter: this process's other tests have loaded the library.
    probe = """
import sys
from datetime import date
from dialog_platform.calendar import TABLE_YEARS, add_working_days, is_working_day, library_year
print(add_working_days(date(2026, 3, 20), 1))
print(sorted(m for m in sys.modules if m.startswith("holidays")))
print(2050 not in TABLE_YEARS, is_working_day(date(2050, 2, 15)), is_working_day(date(2050, 1, 3)))
print(sorted(m for m in sys.modules if m.startswith("holidays.countries")))
import holidays
for year in [*range(2013, 2031), 2050]:
    ours, library = library_year(year), holidays.country_holidays("KZ", years=year)
    assert ours.off == {d for d in library if d.year == year}, year
    assert ours.working_weekend == {d for d in library.weekend_workdays if d.year == year}, year
print("same")
"""
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    first_working_day, loaded, past_the_table, countries, same = result.stdout.splitlines()
    assert first_working_day == "2026-03-26"  # Nauryz 21-23 March, observed 24-25
    assert loaded == "[]"
    assert past_the_table == "True True False"  # a Tuesday; New Year's (Sat 1 Jan) observed Mon
    assert countries == "[]"
    assert same == "same"
