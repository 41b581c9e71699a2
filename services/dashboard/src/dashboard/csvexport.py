"""The control office's case list and statistics as CSV that Excel opens with Cyrillic and
Kazakh intact."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from .i18n import Translator

BOM = "\ufeff"
COLUMNS = (
    "registration_number",
    "official_id",
    "addressed_official_id",
    "status",
    "category",
    "language",
    "recorded_at",
    "control_date",
    "legal_deadline",
    "days_left",
    "overdue",
    "answered_at",
    "topic",
    "summary",
    "appeal_id",
)


def cases_csv(
    cases: Iterable[dict[str, Any]], t: Translator, topics: dict[str, Any] | None = None
) -> str:
    out = io.StringIO()
    # Excel reads a UTF-8 file as the local code page unless it starts with a BOM.
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([t(f"csv.{c}") for c in COLUMNS])
    for case in cases:
        row = []
        for column in COLUMNS:
            value = case.get(column)
            if column == "status":
                value = t(f"status.{value}")
            elif column == "category":
                value = t(f"category.{value}")
            elif column == "topic" and value:
                value = t.pick((topics or {}).get(value)) or value
            elif column == "overdue":
                value = t("yes") if value else t("no")
            row.append("" if value is None else str(value))
        writer.writerow(row)
    return out.getvalue()


STATS_COLUMNS = (
    "level",
    "name",
    "received",
    "answered",
    "answered_on_time",
    "median_days_to_answer",
    "rated",
    "helped",
    "share_helpful",
)


def stats_csv(rows: Iterable[tuple[str, str, dict[str, Any]]], t: Translator) -> str:
    """One row per official and department: (level, name, figures)."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([t(f"stats_csv.{c}") for c in STATS_COLUMNS])
    for level, name, figures in rows:
        row = [t(f"stats.level_{level}"), name]
        for column in STATS_COLUMNS[2:]:
            value = figures.get(column)
            row.append("" if value is None else str(value))
        writer.writerow(row)
    return out.getvalue()
