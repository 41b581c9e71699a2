"""media-store's own database: one document per object (size, duration, codec, checksum)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from dialog_platform import documents

Doc = dict[str, Any]
Db = AsyncDatabase[Doc]


async def create_indexes(db: Db) -> None:
    await db.objects.create_index([("status", ASCENDING), ("started_at", ASCENDING)])


async def start_upload(db: Db, *, key: str, now: datetime) -> None:
    # Recorded before the first byte is written so a crash mid-upload leaves a trace the
    # janitor can clean up.
    await documents.put(db.objects, key, {"status": "uploading", "started_at": now})


async def finish_upload(db: Db, *, key: str, meta: Doc, now: datetime) -> None:
    await db.objects.update_one(
        {"_id": key}, {"$set": {**meta, "status": "stored", "stored_at": now}}
    )


async def get(db: Db, *, key: str) -> Doc | None:
    return await db.objects.find_one({"_id": key})


async def delete(db: Db, *, key: str) -> None:
    await db.objects.delete_one({"_id": key})


async def stale_uploads(db: Db, *, before: datetime) -> list[str]:
    cursor = db.objects.find({"status": "uploading", "started_at": {"$lt": before}}, {"_id": 1})
    return [d["_id"] async for d in cursor]


async def keys_under(db: Db, *, prefix: str) -> list[str]:
    """Every object key starting with `prefix` (a range on `_id`, which any server indexes)."""
    cursor = db.objects.find({"_id": {"$gte": prefix, "$lt": prefix + "\uffff"}}, {"_id": 1})
    return [d["_id"] async for d in cursor]
