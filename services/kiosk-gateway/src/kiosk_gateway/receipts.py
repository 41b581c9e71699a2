"""The one place a receipt is asked for: the first at submit, copies on reprint."""

from __future__ import annotations

from datetime import date
from typing import Any

from dialog_contracts import Localized, ReceiptRequested


def receipt_requested(
    appeal: dict[str, Any],
    kiosk: dict[str, Any],
    official: dict[str, Any],
    *,
    copy: int,
    code: str,
    tracking_url: str,
) -> ReceiptRequested:
    """What the printer at `kiosk` prints for a registered `appeal` (as stored).

    `kiosk` is where the citizen stands now, which for a copy may not be where they recorded;
    `code` is the plain access code, known only at submit and to a citizen asking for a copy.
    """
    return ReceiptRequested(
        appeal_id=appeal["_id"],
        kiosk_id=kiosk["_id"],
        copy_number=copy,
        registration_number=appeal["registration_number"],
        access_code=code,
        language=appeal["language"],
        category=appeal["category"],
        recorded_at=appeal["registered_at"],
        control_date=date.fromisoformat(appeal["control_date"]),
        center=Localized(kk=kiosk["location"], ru=kiosk["location"]),
        official_name=Localized(**official["full_name"]),
        official_position=Localized(**official["position"]),
        tracking_url=tracking_url,
    )
