"""Control date and legal deadline of an appeal, on the Kazakhstan working calendar.

Legal frame (APPC Art. 76): the answer is due in 15 working days. The working-day calendar
itself lives in ``dialog_platform.calendar`` (routing counts the same days for forwarding and
reminders); its names are re-exported here for the gateway's existing callers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from dialog_platform.calendar import (
    ALMATY,
    add_working_days,
    is_working_day,
    local_date,
    next_working_day,
    working_days_between,
)

__all__ = [
    "ALMATY",
    "CONTROL_CALENDAR_DAYS",
    "LEGAL_WORKING_DAYS",
    "Deadlines",
    "add_working_days",
    "compute_deadlines",
    "is_working_day",
    "local_date",
    "next_working_day",
    "working_days_between",
]

LEGAL_WORKING_DAYS: Final = 15
CONTROL_CALENDAR_DAYS: Final = 14


@dataclass(frozen=True, slots=True)
class Deadlines:
    control_date: date
    """What the receipt promises: registration date + 14 days, capped by the legal deadline."""
    legal_deadline: date
    """The last day of the 15 working days the law allows."""


def compute_deadlines(
    registered_at: datetime,
    *,
    control_days: int = CONTROL_CALENDAR_DAYS,
    legal_working_days: int = LEGAL_WORKING_DAYS,
) -> Deadlines:
    """Control date and legal deadline for an appeal registered at ``registered_at``.

    Counting starts the day after registration; an appeal registered on a day off counts as
    registered on the next working day. The keyword arguments exist for the control office's
    settings and for tests; the defaults are the product's promise and the law.
    """
    registered = local_date(registered_at)
    counted_from = registered if is_working_day(registered) else next_working_day(registered)
    legal = add_working_days(counted_from, legal_working_days)
    # With the defaults the cap never binds: the 15 working days are 15 distinct days after the
    # registration date, so the deadline is at least registration + 15 > registration + 14.
    # It is kept because the promise must never exceed the law if either number changes.
    control = min(registered + timedelta(days=control_days), legal)
    return Deadlines(control_date=control, legal_deadline=legal)
