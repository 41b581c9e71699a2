"""kiosk-gateway's domain metrics (dialog_platform.metrics adds the `service` label).

Labelled by kiosk, language and category only: never the phone, IIN, name, registration number
or access code. Booth health (part 3 of issue 11) hooks its gauges in here with
`dialog_platform.metrics.on_scrape`: `dialog_kiosk_up{kiosk,center}` and
`dialog_kiosk_printer_state{kiosk,state}`, which the alert rules already name.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from dialog_platform import metrics
from dialog_platform.errors import ApiError

SERVICE = "kiosk-gateway"
T = TypeVar("T")

APPEALS_REGISTERED = metrics.counter(
    "dialog_appeals_registered_total",
    "Appeals registered (submitted with their video), by kiosk, language and category.",
    ("kiosk", "language", "category"),
)
RECEIPTS_PRINTED = metrics.counter(
    "dialog_receipts_printed_total", "Receipts the booth's printer printed.", ("kiosk",)
)
RECEIPTS_FAILED = metrics.counter(
    "dialog_receipts_failed_total", "Receipts the booth's printer could not print.", ("kiosk",)
)
LOOKUPS = metrics.counter(
    "dialog_lookups_total",
    "Answer look-ups by number and code: found, not_found, locked (too many wrong codes for "
    "the number) or rate_limited (too many from one client).",
    ("outcome",),
)


# Each outcome is a series at 0 from the start, so that a rate or an alert has one to read.
for _outcome in ("found", "not_found", "locked", "rate_limited"):
    LOOKUPS.labels(SERVICE, _outcome)


def appeal_registered(kiosk: str, language: str, category: str) -> None:
    APPEALS_REGISTERED.labels(SERVICE, kiosk, language, category).inc()
    # The booth's receipt counters exist, at 0, from its first appeal on.
    RECEIPTS_PRINTED.labels(SERVICE, kiosk)
    RECEIPTS_FAILED.labels(SERVICE, kiosk)


def receipt(kiosk: str, *, printed: bool) -> None:
    (RECEIPTS_PRINTED if printed else RECEIPTS_FAILED).labels(SERVICE, kiosk).inc()


async def counted_lookup(verified: Awaitable[T]) -> T:
    """Await a look-up's verification, counting how it ended."""
    try:
        found = await verified
    except ApiError as exc:
        outcome = {"lookup_not_found": "not_found", "lookup_locked": "locked"}.get(
            exc.code, "rate_limited" if exc.status == 429 else "invalid"
        )
        LOOKUPS.labels(SERVICE, outcome).inc()
        raise
    LOOKUPS.labels(SERVICE, "found").inc()
    return found
