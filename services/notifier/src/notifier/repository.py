"""notifier's own database: one document per (appeal, purpose, recipient), and the citizens'
contacts per appeal (from AppealRecorded, for the SMS that come later).

What is still to be sent also has an entry in `due` (its key and when it may go next), removed
once the SMS is done. The sender leases from `due`, which holds only the few SMS in flight, so a
lease costs the same after a million SMS as after ten; leasing from `notifications` itself meant
a filter on its state that the embedded server answers by reading every notification.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from dialog_platform import documents

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
WAITING = (PENDING, HELD, SENDING)


async def create_indexes(db: Db) -> None:
    await db.notifications.create_index([("appeal_id", ASCENDING), ("created_at", ASCENDING)])
    await db.notifications.create_index([("state", ASCENDING), ("not_before", ASCENDING)])
    await db.due.create_index([("not_before", ASCENDING)])


async def restore_due(db: Db) -> int:
    """Give every notification still to be sent its `due` entry (once at start: notifications
    recorded before `due` existed, or whose entry a crash left unwritten); return how many."""
    restored = 0
    cursor = db.notifications.find({"state": {"$in": list(WAITING)}}, {"not_before": 1})
    async for doc in cursor:
        restored += await _add_due(db, doc["_id"], doc["not_before"])
    return restored


async def _add_due(db: Db, key: str, not_before: datetime) -> int:
    try:
        await db.due.insert_one({"_id": key, "not_before": not_before})
    except DuplicateKeyError:
        return 0
    return 1


async def _set_due(db: Db, key: str, not_before: datetime) -> None:
    updated = await db.due.update_one({"_id": key}, {"$set": {"not_before": not_before}})
    if updated.matched_count == 0:
        await _add_due(db, key, not_before)


async def claim(db: Db, *, notification: Doc) -> tuple[Doc, bool]:
    """Insert the notification if new; return the stored one and whether it was new."""
    key = notification["_id"]
    try:
        await db.notifications.insert_one(notification)
    except DuplicateKeyError:
        pass
    else:
        if notification["state"] in WAITING:
            await _add_due(db, key, notification["not_before"])
        return notification, True
    found = await db.notifications.find_one({"_id": key})
    assert found is not None
    if found["state"] in WAITING:
        # A crash between the two writes above left no entry: this redelivery adds it.
        await _add_due(db, key, found["not_before"])
    return found, False


async def set_state(db: Db, *, key: str, state: str, now: datetime, **fields: Any) -> Doc | None:
    stored = await db.notifications.find_one_and_update(
        {"_id": key},
        {"$set": {"state": state, "updated_at": now, **fields}},
        return_document=ReturnDocument.AFTER,
    )
    if stored is None:
        return None
    if state in DONE:
        await db.due.delete_one({"_id": key})
    else:
        await _set_due(db, key, stored["not_before"])
    return stored


async def any_due(db: Db, *, now: datetime) -> bool:
    """Whether a notification is due to be sent (or tried again) by `now`."""
    return await db.due.find_one({"not_before": {"$lte": now}}, {"_id": 1}) is not None


async def lease_due(db: Db, *, now: datetime, lease: timedelta) -> Doc | None:
    """Take one due notification: mark it `sending` (before SMSC is called), count the attempt
    and lease it; the document as it was, its earlier state in `previous_state`."""
    until = now + lease
    while True:
        # The lease is taken on `due`, atomically: two senders never hold the same SMS.
        slot = await db.due.find_one_and_update(
            {"not_before": {"$lte": now}},
            {"$set": {"not_before": until}},
            sort=[("not_before", ASCENDING)],
        )
        if slot is None:
            return None
        # One round trip: marked `sending` only if still waiting, the document as it was.
        before = await db.notifications.find_one_and_update(
            {"_id": slot["_id"], "state": {"$in": list(WAITING)}},
            {
                "$set": {"state": SENDING, "updated_at": now, "not_before": until},
                "$inc": {"attempts": 1},
            },
            return_document=ReturnDocument.BEFORE,
        )
        if before is None:
            # Done already (a crash came between recording it and removing its entry).
            await db.due.delete_one({"_id": slot["_id"]})
            continue
        return {**before, "previous_state": before["state"], "attempts": before["attempts"] + 1}


async def for_appeal(db: Db, *, appeal_id: str) -> list[Doc]:
    cursor = db.notifications.find({"appeal_id": appeal_id}, sort=[("created_at", ASCENDING)])
    return [d async for d in cursor]


async def save_citizen(db: Db, *, appeal_id: str, contact: Doc) -> None:
    await documents.put(db.citizens, appeal_id, contact)


async def citizen(db: Db, *, appeal_id: str) -> Doc | None:
    return await db.citizens.find_one({"_id": appeal_id})


async def forget_citizen(db: Db, *, appeal_id: str, now: datetime) -> int:
    """The storage period is over: the citizen's phone goes from their SMS and contact; the SMS
    themselves (purpose, text, delivery state) stay for the figures. Idempotent: the contact is
    removed last, so a crash before it is finished by the redelivery."""
    contact = await citizen(db, appeal_id=appeal_id)
    if contact is None:
        return 0
    theirs = {"appeal_id": appeal_id, "phone": contact["phone"]}
    # One still waiting (it cannot be, five years on, but a short period is a setting) is
    # never sent to a number that is no longer kept.
    waiting = db.notifications.find({**theirs, "state": {"$in": list(WAITING)}}, {"_id": 1})
    for key in [d["_id"] async for d in waiting]:
        await set_state(db, key=key, state=FAILED, now=now, error="storage period over")
    phone = contact["phone"]
    removed = 0
    # The key names the number (one SMS per appeal, purpose and phone): re-keyed without it.
    async for doc in db.notifications.find({"appeal_id": appeal_id}):
        if phone not in doc["_id"] and doc.get("phone") != phone:
            continue
        kept = {k: v for k, v in doc.items() if k != "phone"}
        kept["_id"] = doc["_id"].replace(phone, "expired")
        with contextlib.suppress(DuplicateKeyError):
            await db.notifications.insert_one(kept)
        if kept["_id"] != doc["_id"]:
            await db.notifications.delete_one({"_id": doc["_id"]})
        else:
            await db.notifications.update_one({"_id": doc["_id"]}, {"$unset": {"phone": ""}})
        await db.due.delete_one({"_id": doc["_id"]})
        removed += 1
    await db.citizens.delete_one({"_id": appeal_id})
    return removed
