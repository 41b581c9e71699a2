"""What officials see of a value: masked phones, the CSV, the weekly chart."""

from __future__ import annotations

import csv
import io
import re

from dashboard.charts import weekly_chart
from dashboard.csvexport import cases_csv
from dashboard.i18n import Translator
from dashboard.present import format_phone, local_date, local_dt


def test_phone_is_shown_in_groups() -> None:
    assert format_phone("+77012345678") == "+7 701 234 56 78"


def test_times_are_shown_in_kazakhstan_time() -> None:
    assert local_dt("2026-03-01T19:30:00Z") == "02.03.2026 00:30"
    assert local_date("2026-03-15") == "15.03.2026"


def test_csv_has_a_bom_a_localized_header_and_one_row_per_case() -> None:
    case = {
        "registration_number": "2026-000017-3",
        "official_id": "akim",
        "addressed_official_id": "akim",
        "status": "overdue",
        "category": "violation",
        "language": "kk",
        "recorded_at": "2026-03-01T10:00:00Z",
        "control_date": "2026-03-15",
        "legal_deadline": "2026-03-20",
        "days_left": -2,
        "overdue": True,
        "answered_at": None,
        "appeal_id": "a1",
    }
    text = cases_csv(
        [case, {**case, "registration_number": "=cmd", "overdue": False}], Translator("ru")
    )
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0][:4] == ["Рег. номер", "Исполнитель", "Адресовано", "Статус"]
    assert rows[1][:4] == ["2026-000017-3", "akim", "akim", "Просрочено"]
    assert rows[1][4] == "Сообщение о нарушении" and rows[1][10] == "да" and rows[1][9] == "-2"
    assert len(rows) == 3


def test_weekly_chart_draws_a_bar_per_week_and_figure() -> None:
    weeks = [
        {"week": "2026-W10", "received": 4, "answered": 1},
        {"week": "2026-W11", "received": 0, "answered": 3},
    ]
    svg = str(weekly_chart(weeks, received="Түсті", answered="Жауап <b>", title="Апта"))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    bars = re.findall(r'class="bar-(received|answered)"[^>]*height="([\d.]+)"', svg)
    assert len(bars) == 4
    received_w10, answered_w10, received_w11, answered_w11 = (float(h) for _, h in bars)
    assert received_w10 == 4 * answered_w10 and received_w11 == 0 and answered_w11 > answered_w10
    assert "W10" in svg and "Жауап &lt;b&gt;" in svg and "<b>" not in svg
