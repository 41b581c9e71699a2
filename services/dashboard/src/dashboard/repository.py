"""dashboard's own database: accounts, sessions, answers and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

Doc = dict[str, Any]
Db = AsyncDatabase[Doc]


async def create_indexes(db: Db) -> None:
    await db.sessions.create_index([("expires_at", ASCENDING)])
    await db.sessions.create_index([("login", ASCENDING)])
    await db.answers.create_index([("appeal_id", ASCENDING), ("answered_at", ASCENDING)])
    await db.audit.create_index([("at", DESCENDING)])
    await db.audit.create_index([("appeal_id", ASCENDING), ("at", DESCENDING)])


# Accounts


async def count_accounts(db: Db) -> int:
    return await db.accounts.count_documents({})


async def insert_account(db: Db, *, account: Doc) -> bool:
    try:
        await db.accounts.insert_one(account)
    except DuplicateKeyError:
        return False
    return True


async def get_account(db: Db, *, login: str) -> Doc | None:
    return await db.accounts.find_one({"_id": login})


async def list_accounts(db: Db) -> list[Doc]:
    cursor = db.accounts.find({}, {"password_hash": 0}, sort=[("_id", ASCENDING)])
    return [a async for a in cursor]


async def set_account(db: Db, *, login: str, fields: Doc) -> bool:
    result = await db.accounts.update_one({"_id": login}, {"$set": fields})
    return result.matched_count == 1


# Sessions


async def insert_session(db: Db, *, session: Doc) -> None:
    await db.sessions.insert_one(session)


async def get_session(db: Db, *, session_id: str, now: datetime) -> Doc | None:
    return await db.sessions.find_one({"_id": session_id, "expires_at": {"$gt": now}})


async def touch_session(db: Db, *, session_id: str, expires_at: datetime) -> None:
    await db.sessions.update_one({"_id": session_id}, {"$set": {"expires_at": expires_at}})


async def delete_session(db: Db, *, session_id: str) -> None:
    await db.sessions.delete_one({"_id": session_id})


async def delete_sessions_of(db: Db, *, login: str) -> int:
    result = await db.sessions.delete_many({"login": login})
    return result.deleted_count


async def delete_expired_sessions(db: Db, *, now: datetime) -> int:
    result = await db.sessions.delete_many({"expires_at": {"$lte": now}})
    return result.deleted_count


# Answers


async def answers_of(
    db: Db, *, appeal_id: str, session: AsyncClientSession | None = None
) -> list[Doc]:
    cursor = db.answers.find(
        {"appeal_id": appeal_id},
        sort=[("answered_at", ASCENDING), ("seq", ASCENDING)],
        session=session,
    )
    return [a async for a in cursor]


async def insert_answer(db: Db, *, answer: Doc, session: AsyncClientSession) -> None:
    await db.answers.insert_one(answer, session=session)


async def insert_answer_video(db: Db, *, video: Doc) -> None:
    await db.answer_videos.insert_one(video)


async def get_answer_video(
    db: Db, *, key: str, session: AsyncClientSession | None = None
) -> Doc | None:
    return await db.answer_videos.find_one({"_id": key}, session=session)


async def mark_answer_video_used(db: Db, *, key: str, session: AsyncClientSession) -> None:
    await db.answer_videos.update_one({"_id": key}, {"$set": {"used": True}}, session=session)


# Audit log


async def insert_audit(db: Db, *, entry: Doc, session: AsyncClientSession | None = None) -> None:
    await db.audit.insert_one(entry, session=session)


async def list_audit(
    db: Db,
    *,
    action: str | None = None,
    login: str | None = None,
    appeal_id: str | None = None,
    before: datetime | None = None,
    limit: int = 100,
) -> list[Doc]:
    query: Doc = {}
    if action:
        query["action"] = action
    if login:
        query["login"] = login
    if appeal_id:
        query["appeal_id"] = appeal_id
    if before is not None:
        query["at"] = {"$lt": before}
    cursor = db.audit.find(query, sort=[("at", DESCENDING)], limit=limit)
    return [a async for a in cursor]


# Small flags (demo seeding done, …)


async def get_flag(db: Db, *, name: str) -> bool:
    return await db.meta.find_one({"_id": name}) is not None


async def set_flag(db: Db, *, name: str, at: datetime) -> None:
    await db.meta.update_one({"_id": name}, {"$set": {"at": at}}, upsert=True)
