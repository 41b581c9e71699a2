"""The Kazakhstan working-day calendar, shared by every service that counts legal deadlines.

Working days are Monday to Friday, minus public holidays, minus the days off that replace a
holiday falling on a weekend ("observed", e.g. Nauryz 2026: 24-25 March), minus days off the
Government moved onto a weekday by decree ("substituted", e.g. 3 January 2025), plus the weekend
days that such a decree made working in exchange (e.g. Sunday 5 January 2025). All of that comes
from the ``holidays`` library; this module only adds the counting rules.

The library's answers for 2000-2045 are kept in ``kazakhstan-days.json`` beside this file, written
by ``python -m dialog_platform.calendar``: importing the library costs a process 10 MB (its
calendars of every other faith and country come with it) for twenty dates a year. A year outside
the table asks the library itself. ``test_calendar`` fails, and says how to write the table again,
as soon as the table and the installed library disagree on any day.

Dates are calendar days in Asia/Almaty: a booth in Kazakhstan at 23:30 on a Friday is on Friday
whatever the server's clock says.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import date, datetime, timedelta, timezone, tzinfo
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Final, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    import holidays

__all__ = [
    "ALMATY",
    "add_working_days",
    "is_working_day",
    "local_date",
    "next_working_day",
    "working_days_between",
]


def _kazakhstan() -> tzinfo:
    try:
        return ZoneInfo("Asia/Almaty")
    except ZoneInfoNotFoundError:
        # A booth's computer without a tz database: the country has kept UTC+5 since March 2024.
        return timezone(timedelta(hours=5), "UTC+05")


# The one time zone of every date Dialog shows or computes: deadlines are working days of
# Kazakhstan's calendar by law, so the booth, the receipt, the dashboard and the notifier's
# quiet hours must agree on it; it is not a setting for that reason.
ALMATY: Final = _kazakhstan()
_ONE_DAY: Final = timedelta(days=1)


@cache
def _kazakhstan_holidays() -> type[holidays.HolidayBase]:
    """The library's Kazakhstan class, with none of its 250 other countries where it can.

    Imported on first use: most requests of a freshly started service need no date arithmetic.
    Any country the library is asked for (`country_holidays("KZ")`, `holidays.KZ`) runs its
    `holidays.countries` package, which imports every country: 7 MB of a process's memory (17
    with the library's core) and 0.2 s, for one of them. The Kazakhstan module imports no other
    country, so it is loaded from its file alone, under a name of our own; should a release move
    it, the library's own way is taken instead. `test_calendar` checks both give the same days.
    """
    import holidays

    path = Path(holidays.__file__).parent / "countries" / "kazakhstan.py"
    spec = importlib.util.spec_from_file_location(_PRIVATE_MODULE, path)
    kazakhstan: type[holidays.HolidayBase] | None = None
    if spec is not None and spec.loader is not None and path.is_file():
        module = importlib.util.module_from_spec(spec)
        sys.modules[_PRIVATE_MODULE] = module  # as the import system would, for its classes
        spec.loader.exec_module(module)
        kazakhstan = getattr(module, "Kazakhstan", None)
    return kazakhstan or type(holidays.country_holidays("KZ"))


_PRIVATE_MODULE = "dialog_platform._kazakhstan_holidays"


TABLE: Final = Path(__file__).with_name("kazakhstan-days.json")
TABLE_YEARS: Final = range(2000, 2046)


class YearDays(NamedTuple):
    """A year's days off and its weekend days made working, as the library gives them."""

    off: frozenset[date]
    working_weekend: frozenset[date]


def library_year(year: int) -> YearDays:
    calendar = _kazakhstan_holidays()(years=year)
    # A decree may swap a day off across New Year (2014's 3 January was paid for by working
    # Saturday 28 December 2013). The library (0.109) loads such cross-year swaps into every
    # year's set, so the set holds dates of other years too; keep this year's only.
    return YearDays(
        off=frozenset(d for d in calendar if d.year == year),
        working_weekend=frozenset(d for d in calendar.weekend_workdays if d.year == year),
    )


@cache
def _table() -> dict[int, YearDays]:
    try:
        raw = json.loads(TABLE.read_text(encoding="utf-8"))
    except FileNotFoundError:  # an install without the data file still counts right, slower
        return {}
    return {
        int(year): YearDays(
            off=frozenset(map(date.fromisoformat, days["off"])),
            working_weekend=frozenset(map(date.fromisoformat, days["working_weekend"])),
        )
        for year, days in raw["years"].items()
    }


# The library recomputes a year on first use; a year's sets are built once and, being
# immutable, are safe to share between threads (a HolidayBase grows itself on look-ups).
@cache
def year_days(year: int) -> YearDays:
    return _table().get(year) or library_year(year)


def table_text(years: range = TABLE_YEARS) -> str:
    """The table as the installed library gives it, in the file's stable, reviewable form."""
    from importlib.metadata import version

    body = {
        str(year): {
            "off": sorted(d.isoformat() for d in days.off),
            "working_weekend": sorted(d.isoformat() for d in days.working_weekend),
        }
        for year in years
        for days in [library_year(year)]
    }
    # One line a year, so a new release's changes read as a short diff.
    lines = ",\n".join(f"  {json.dumps(year)}: {json.dumps(days)}" for year, days in body.items())
    return f'{{"holidays": {json.dumps(version("holidays"))}, "years": {{\n{lines}\n}}}}\n'


def is_working_day(d: date) -> bool:
    if d.weekday() >= 5:
        return d in year_days(d.year).working_weekend
    return d not in year_days(d.year).off


def next_working_day(d: date) -> date:
    """The first working day strictly after ``d``."""
    d += _ONE_DAY
    while not is_working_day(d):
        d += _ONE_DAY
    return d


def add_working_days(start: date, n: int) -> date:
    """The ``n``-th working day after ``start`` (before it when ``n`` is negative).

    ``start`` itself is never counted, so ``add_working_days(d, 0) == d`` even on a day off, and
    the result for ``n != 0`` is always a working day.
    """
    step = _ONE_DAY if n >= 0 else -_ONE_DAY
    d = start
    for _ in range(abs(n)):
        d += step
        while not is_working_day(d):
            d += step
    return d


def working_days_between(a: date, b: date) -> int:
    """Working days in ``(a, b]``; negative (the count in ``(b, a]``) when ``b`` is before ``a``.

    The interval is half-open so that this inverts :func:`add_working_days` for working days:
    ``working_days_between(a, add_working_days(a, n)) == n``. A case registered on day ``a`` is
    within a 3-working-day window on day ``b`` iff ``working_days_between(a, b) <= 3``.
    """
    if b < a:
        return -working_days_between(b, a)
    count = 0
    d = a
    while d < b:
        d += _ONE_DAY
        count += is_working_day(d)
    return count


def local_date(instant: datetime) -> date:
    """The Almaty calendar date of an aware instant."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        # A naive time has no defined Almaty date; guessing (server local time? UTC?) is exactly
        # the bug that moves a Friday-evening appeal to Saturday.
        raise ValueError("registration time must be timezone-aware")
    return instant.astimezone(ALMATY).date()


if __name__ == "__main__":
    TABLE.write_text(table_text(), encoding="utf-8")
    print(f"wrote {TABLE}")
