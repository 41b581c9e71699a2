"""routing's own database: the officials directory and the cases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

Doc = dict[str, Any]
Db = AsyncDatabase[Doc]

# The picker never needs the photo bytes or the SMS phone.
PUBLIC_FIELDS = {"photo.data": 0, "phone": 0}


async def create_indexes(db: Db) -> None:
    await db.cases.create_index([("official_id", ASCENDING), ("control_date", ASCENDING)])


async def count_officials(db: Db) -> int:
    return await db.officials.count_documents({})


async def upsert_official(db: Db, *, official: Doc) -> None:
    await db.officials.replace_one({"_id": official["_id"]}, official, upsert=True)


async def list_officials(db: Db, *, active_only: bool) -> list[Doc]:
    query: Doc = {"active": True} if active_only else {}
    cursor = db.officials.find(
        query, PUBLIC_FIELDS, sort=[("order", ASCENDING), ("_id", ASCENDING)]
    )
    return [o async for o in cursor]


async def get_official(db: Db, *, official_id: str) -> Doc | None:
    return await db.officials.find_one({"_id": official_id}, PUBLIC_FIELDS)


async def get_contact(db: Db, *, official_id: str) -> Doc | None:
    return await db.officials.find_one(
        {"_id": official_id}, {"phone": 1, "language": 1, "supervisor_id": 1, "full_name": 1}
    )


async def get_photo(db: Db, *, official_id: str) -> Doc | None:
    doc = await db.officials.find_one({"_id": official_id}, {"photo": 1})
    return doc.get("photo") if doc else None


async def get_case(
    db: Db, *, appeal_id: str, session: AsyncClientSession | None = None
) -> Doc | None:
    return await db.cases.find_one({"_id": appeal_id}, session=session)


async def insert_case(db: Db, *, case: Doc, session: AsyncClientSession) -> None:
    await db.cases.insert_one(case, session=session)


async def list_cases(db: Db, *, official_id: str | None = None, limit: int = 100) -> list[Doc]:
    query: Doc = {"official_id": official_id} if official_id else {}
    return [c async for c in db.cases.find(query, limit=limit, sort=[("recorded_at", -1)])]


def now_fields(now: datetime) -> Doc:
    return {"updated_at": now}
