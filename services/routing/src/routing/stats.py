"""The control office's figures: per official, per department, and per ISO week."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from . import repository as repo

Doc = dict[str, Any]


def _week(iso_date: str) -> str:
    year, week, _ = date.fromisoformat(iso_date).isocalendar()
    return f"{year}-W{week:02d}"


def _figures(cases: list[Doc]) -> Doc:
    answered = [c for c in cases if c.get("answered_date")]
    # On time = answered by the control date the citizen was promised (never past the law).
    on_time = [c for c in answered if c["answered_date"] <= c["control_date"]]
    days = [
        (date.fromisoformat(c["answered_date"]) - date.fromisoformat(c["recorded_date"])).days
        for c in answered
    ]
    rated = [c["rating"] for c in cases if c.get("rating")]
    helped = sum(1 for r in rated if r.get("helped"))
    return {
        "received": len(cases),
        "answered": len(answered),
        "answered_on_time": len(on_time),
        "median_days_to_answer": statistics.median(days) if days else None,
        # The citizen's latest rating of each case's latest answer.
        "rated": len(rated),
        "helped": helped,
        "share_helpful": round(helped / len(rated), 3) if rated else None,
    }


async def stats(db: repo.Db, *, first: date, last: date, department: str | None) -> Doc:
    """Cases recorded in [first, last] by their current handler; answers counted per week of
    the answer (a case recorded before `first` and answered inside the range counts there)."""
    recorded = await repo.cases_recorded_between(
        db, first=first.isoformat(), last=last.isoformat(), department=department
    )
    answered = await repo.cases_answered_between(
        db, first=first.isoformat(), last=last.isoformat(), department=department
    )
    by_official: dict[str, list[Doc]] = defaultdict(list)
    by_department: dict[str, list[Doc]] = defaultdict(list)
    by_topic: dict[str, list[Doc]] = defaultdict(list)
    department_of: dict[str, str | None] = {}
    for c in recorded:
        by_official[c["official_id"]].append(c)
        department_of[c["official_id"]] = c.get("department")
        by_department[c.get("department") or ""].append(c)
        by_topic[c.get("topic") or ""].append(c)
    weeks: dict[str, Doc] = defaultdict(lambda: {"received": 0, "answered": 0})
    for c in recorded:
        weeks[_week(c["recorded_date"])]["received"] += 1
    for c in answered:
        weeks[_week(c["answered_date"])]["answered"] += 1
    # Every week of the range, empty ones too: the chart's axis must not skip a quiet week.
    day = first
    while day <= last:
        weeks[_week(day.isoformat())]  # the defaultdict creates the zero row
        day += timedelta(days=7)
    weeks[_week(last.isoformat())]
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "officials": [
            {"official_id": o, "department": department_of[o], **_figures(cs)}
            for o, cs in sorted(by_official.items())
        ],
        "departments": [
            {"department": d or None, **_figures(cs)} for d, cs in sorted(by_department.items())
        ],
        "topics": [{"topic": t or None, **_figures(cs)} for t, cs in sorted(by_topic.items())],
        "weekly": [{"week": w, **weeks[w]} for w in sorted(weeks)],
    }
