"""The dashboard's read model of the booths, for the center operators' page.

Filled from events only (KioskHealthChanged, AppealRecorded, ReceiptFailed), never by asking
the gateway: the page shows what the dashboard was told, with the time it was told.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING

from dialog_contracts import AppealRecorded, KioskHealthChanged, ReceiptFailed
from dialog_platform.calendar import ALMATY

COLLECTION = "booths"
# Failed receipts kept per booth: today's are shown, older ones go at the next failure.
_KEEP = timedelta(days=2)


def _col(db: Any) -> Any:
    return db[COLLECTION]


async def health_changed(db: Any, e: KioskHealthChanged) -> None:
    problems = {c.condition: c for c in e.changes if not c.ok}
    fields: dict[str, Any] = {
        "center": e.center,
        "location": e.location,
        "up": e.up,
        "printer_state": e.printer_state,
        "camera_ok": e.camera_ok,
        "microphone_ok": e.microphone_ok,
        "last_seen_at": e.last_seen_at,
        "changed_at": e.changed_at,
    }
    for condition, change in problems.items():
        fields[f"since.{condition}"] = change.since
    # A late or redelivered event never replaces a newer state.
    held = await _col(db).find_one({"_id": e.kiosk_id}) or {}
    if held.get("changed_at") is not None and held["changed_at"] >= e.changed_at:
        return
    await _col(db).update_one({"_id": e.kiosk_id}, {"$set": fields}, upsert=True)


async def appeal_recorded(db: Any, e: AppealRecorded) -> None:
    await _col(db).update_one(
        {"_id": e.kiosk_id}, {"$max": {"last_appeal_at": e.recorded_at}}, upsert=True
    )


async def receipt_failed(db: Any, e: ReceiptFailed) -> None:
    key = f"{e.appeal_id}:{e.copy_number}"
    booth = await _col(db).find_one({"_id": e.kiosk_id}) or {}
    failed = [f for f in booth.get("failed", []) if f["key"] != key]
    failed.append({"key": key, "at": e.failed_at, "reason": e.reason[:200]})
    failed = [f for f in failed if f["at"] >= e.failed_at - _KEEP]
    await _col(db).update_one({"_id": e.kiosk_id}, {"$set": {"failed": failed}}, upsert=True)


async def booths(db: Any, *, center: str | None, now: datetime) -> list[dict[str, Any]]:
    """Booths of `center` (all of them for None), with today's failed receipts."""
    query = {"center": center} if center is not None else {"center": {"$exists": True}}
    today = now.astimezone(ALMATY).date()
    found = []
    async for booth in _col(db).find(query, sort=[("center", ASCENDING), ("_id", ASCENDING)]):
        failed = [f for f in booth.get("failed", []) if f["at"].astimezone(ALMATY).date() == today]
        found.append({**booth, "failed_today": failed})
    return found
