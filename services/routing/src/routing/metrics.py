"""routing's domain metrics: open, due-soon and overdue cases per department, read from the
cases at scrape time (dialog_platform.metrics adds the `service` label)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from dialog_platform import metrics

from . import repository as repo
from .queries import CaseFilter, build_query
from .service import Routing

SERVICE = "routing"
# The label of cases whose official has no department in the directory.
NO_DEPARTMENT = "none"

CASES_OPEN = metrics.gauge("dialog_cases_open", "Cases not answered yet.", ("department",))
CASES_DUE_SOON = metrics.gauge(
    "dialog_cases_due_soon",
    "Open cases whose control date is within the reminder lead (3 working days by default).",
    ("department",),
)
CASES_OVERDUE = metrics.gauge(
    "dialog_cases_overdue", "Open cases past their control date.", ("department",)
)


def case_gauges(routing: Routing) -> Callable[[], Awaitable[None]]:
    """The scrape-time callback that sets the three gauges for every department."""
    reported: set[str | None] = set()

    async def refresh() -> None:
        today = routing.today()
        soon_until = routing.soon_until(today)
        departments = set(await repo.open_departments(routing.db)) | reported
        for department in departments:
            counts = []
            for f in (
                CaseFilter(department=department, status="open"),
                CaseFilter(department=department, due="soon"),
                CaseFilter(department=department, due="overdue"),
            ):
                query = build_query(f, today=today, soon_until=soon_until)
                if department is None:
                    query["department"] = None
                counts.append(await repo.count_cases(routing.db, query=query))
            label = department or NO_DEPARTMENT
            for gauge, count in zip(
                (CASES_OPEN, CASES_DUE_SOON, CASES_OVERDUE), counts, strict=True
            ):
                gauge.labels(SERVICE, label).set(count)
            # A department whose last case was answered still reports its zeros.
            reported.add(department)

    return refresh
