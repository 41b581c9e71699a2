"""A receipt request for printer-agent's tests, with any field changed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from dialog_contracts import Localized, ReceiptRequested


def make_receipt(**changes: Any) -> ReceiptRequested:
    fields: dict[str, Any] = {
        "appeal_id": "ap-1",
        "kiosk_id": "k-1",
        "copy_number": 1,
        "registration_number": "2025-000042-3",
        "access_code": "12345678",
        "language": "ru",
        "category": "violation",
        "recorded_at": datetime(2025, 6, 2, 6, 0, tzinfo=UTC),
        "control_date": date(2025, 6, 16),
        "center": Localized(kk="№1 ХҚКО, 1-кабина", ru="ЦОН №1, кабина 1"),
        "official_name": Localized(kk="Әлиева Гүлнұр", ru="Алиева Гульнур"),
        "official_position": Localized(kk="Әкімнің орынбасары", ru="Заместитель акима"),
        "tracking_url": "https://dialog.example.kz/track",
    }
    fields.update(changes)
    return ReceiptRequested(**fields)
