"""The open figures: per department and official and per month, for the public page `/open`.

Routing owns the cases, so it computes them; kiosk-gateway pulls this snapshot every few minutes
into its own database and serves `/open` from there (a pull, not an event: the page then keeps
working while routing is down, a gateway started later fills itself at once, and no broadcast
event has to carry a document that only one service reads).

Only counts, months and the officials' public names and positions leave here. A cell of fewer
than `MIN_CELL` appeals shows none of its figures, and where a department's total would give a
single hidden official's figures back by subtraction, the next smallest official is hidden too.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from datetime import date
from typing import Any

from dialog_platform.component import Clock

from . import repository as repo
from .directory import Directory
from .stats import _figures

Doc = dict[str, Any]
MIN_CELL = 5
MONTHS = 12
FIGURES = ("received", "answered", "answered_on_time", "median_days_to_answer", "share_helpful")


def months_back(today: date, count: int = MONTHS) -> list[str]:
    """The last `count` months, oldest first, the current one included."""
    year, month = today.year, today.month
    out: list[str] = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def _cell(cases: list[Doc]) -> Doc:
    figures = _figures(cases)
    rated = figures.pop("rated")
    figures.pop("helped")
    # Fewer than MIN_CELL ratings would tell what one or two citizens said: hidden like a cell.
    if rated < MIN_CELL:
        figures["share_helpful"] = None
    return {**figures, "suppressed": figures["received"] < MIN_CELL}


def _hide(cell: Doc) -> None:
    cell.update({f: None for f in FIGURES}, suppressed=True)


def _names(official: Doc | None) -> Doc:
    o = official or {}
    name, position = o.get("full_name") or {}, o.get("position") or {}
    return {
        "name_kk": name.get("kk"),
        "name_ru": name.get("ru"),
        "position_kk": position.get("kk"),
        "position_ru": position.get("ru"),
    }


async def compute(db: repo.Db, directory: Directory, today: date) -> Doc:
    months = months_back(today)
    cases = await repo.cases_recorded_between(
        db, first=f"{months[0]}-01", last=today.isoformat(), department=None
    )
    officials = {o["id"]: o for o in await directory.officials(active_only=False)}
    departments: dict[str, Doc] = {}
    for o in officials.values():
        if (d := o.get("department")) and d.get("ru"):
            departments.setdefault(d["ru"], d)
    by_official: dict[tuple[str, str], list[Doc]] = defaultdict(list)
    by_department: dict[tuple[str, str], list[Doc]] = defaultdict(list)
    official_department: dict[str, str] = {}
    for c in cases:
        month, dept = c["recorded_date"][:7], c.get("department") or ""
        by_official[(c["official_id"], month)].append(c)
        by_department[(dept, month)].append(c)
        official_department.setdefault(c["official_id"], dept)
    # Every active official has a row, a quiet one too: "<5" says as much as a missing row.
    for o in officials.values():
        if o.get("active", True) or o["id"] in official_department:
            official_department.setdefault(o["id"], (o.get("department") or {}).get("ru") or "")
    rows: list[Doc] = []
    for dept in sorted({*official_department.values()}):
        names = departments.get(dept) or {"kk": dept or None, "ru": dept or None}
        place = {"department_kk": names.get("kk"), "department_ru": names.get("ru")}
        members = sorted(o for o, d in official_department.items() if d == dept)
        for month in months:
            dept_cell = _cell(by_department.get((dept, month), []))
            cells = {o: _cell(by_official.get((o, month), [])) for o in members}
            hidden = [o for o, c in cells.items() if c["suppressed"]]
            shown = sorted((c["received"], o) for o, c in cells.items() if not c["suppressed"])
            if not dept_cell["suppressed"] and len(hidden) == 1 and shown:
                cells[shown[0][1]]["suppressed"] = True
            for cell in [dept_cell, *cells.values()]:
                if cell["suppressed"]:
                    _hide(cell)
            rows.append(
                {"level": "department", "month": month, **place, "official_id": None,
                 **_names(None), **dept_cell}
            )  # fmt: skip
            for member in members:
                rows.append(
                    {"level": "official", "month": month, **place, "official_id": member,
                     **_names(officials.get(member)), **cells[member]}
                )  # fmt: skip
    return {"months": months, "min_cell": MIN_CELL, "rows": rows}


class OpenFigures:
    """Computed at most every `interval_s`; a burst of requests shares one computation."""

    def __init__(
        self, *, db: repo.Db, directory: Directory, clock: Clock, today: Any, interval_s: float
    ) -> None:
        self.db = db
        self.directory = directory
        self.clock = clock
        self.today = today
        self.interval_s = interval_s
        self._cached: Doc | None = None
        self._at = 0.0
        self._lock = asyncio.Lock()

    async def current(self) -> Doc:
        async with self._lock:
            if self._cached is None or time.monotonic() - self._at >= self.interval_s:
                figures = await compute(self.db, self.directory, self.today())
                self._cached = {"generated_at": self.clock().isoformat(), **figures}
                self._at = time.monotonic()
            return self._cached
