"""notifier's own database: one document per (appeal, purpose, recipient), and the citizens'
contacts per appeal (from AppealRecorded, for the SMS that come later)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

Doc = dict[str, Any]
Db = AsyncDatabase[Doc]

# States: pending → sending → sent → delivered; held (quiet hours); failed (permanent).
PENDING, SENDING, SENT, DELIVERED, HELD, FAILED = (
    "pending",
    "sending",
    "sent",
    "delivered",
    "held",
    "failed",
)
DONE = (SENT, DELIVERED, FAILED)


async def create_indexes(db: Db) -> None:
    await db.notifications.create_index([("appeal_id", ASCENDING), ("created_at", ASCENDING)])
    await db.notifications.create_index([("state", ASCENDING), ("not_before", ASCENDING)])


async def claim(db: Db, *, notification: Doc) -> tuple[Doc, bool]:
    """Insert the notification if new; return the stored one and whether it was new."""
    try:
        await db.notifications.insert_one(notification)
    except DuplicateKeyError:
        pass
    else:
        return notification, True
    found = await db.notifications.find_one({"_id": notification["_id"]})
    assert found is not None
    return found, False


async def set_state(db: Db, *, key: str, state: str, now: datetime, **fields: Any) -> Doc | None:
    return await db.notifications.find_one_and_update(
        {"_id": key},
        {"$set": {"state": state, "updated_at": now, **fields}},
        return_document=ReturnDocument.AFTER,
    )


async def lease_due(db: Db, *, now: datetime, lease: timedelta) -> Doc | None:
    """Take one due notification: mark it `sending` (before SMSC is called), count the attempt
    and lease it; the document as it was, its earlier state in `previous_state`."""
    before = await db.notifications.find_one_and_update(
        {"state": {"$in": [PENDING, HELD, SENDING]}, "not_before": {"$lte": now}},
        {
            "$set": {"state": SENDING, "updated_at": now, "not_before": now + lease},
            "$inc": {"attempts": 1},
        },
        sort=[("not_before", ASCENDING)],
        return_document=ReturnDocument.BEFORE,
    )
    if before is None:
        return None
    return {**before, "previous_state": before["state"], "attempts": before["attempts"] + 1}


async def for_appeal(db: Db, *, appeal_id: str) -> list[Doc]:
    cursor = db.notifications.find({"appeal_id": appeal_id}, sort=[("created_at", ASCENDING)])
    return [d async for d in cursor]


async def save_citizen(db: Db, *, appeal_id: str, contact: Doc) -> None:
    # `_id` repeated in the replacement: nx-27017 ignores the filter's `_id` on upsert.
    await db.citizens.replace_one({"_id": appeal_id}, {"_id": appeal_id, **contact}, upsert=True)


async def citizen(db: Db, *, appeal_id: str) -> Doc | None:
    return await db.citizens.find_one({"_id": appeal_id})
