"""dashboard's own database: accounts, sessions, answers and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from dialog_platform import documents

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


# The read model of cases (`case_index`): who is asking, the video's length, the search keys.
# Filled from events (handlers.py); routing stays the owner of the case itself.


async def create_read_model_indexes(db: Db) -> None:
    from .search import INDEXED_KEYS

    for key in INDEXED_KEYS:
        await db.case_index.create_index([(key, ASCENDING)])
    await db.notes.create_index([("appeal_id", ASCENDING), ("at", ASCENDING)])
    await db.answer_templates.create_index([("department", ASCENDING)])


async def get_case_file(db: Db, *, appeal_id: str) -> Doc | None:
    return await db.case_index.find_one({"_id": appeal_id})


async def put_case_file(db: Db, *, doc: Doc, expected_rev: int | None) -> bool:
    """Store the document unless another writer changed it since it was read."""
    if expected_rev is None:
        try:
            await db.case_index.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True
    result = await db.case_index.replace_one({"_id": doc["_id"], "rev": expected_rev}, doc)
    return result.matched_count == 1


async def case_files(db: Db, *, ids: list[str]) -> dict[str, Doc]:
    if not ids:
        return {}
    cursor = db.case_index.find({"_id": {"$in": ids}})
    return {d["_id"]: d async for d in cursor}


async def find_case_files(
    db: Db, *, key: str, low: str, high: str, after: str | None, limit: int
) -> list[Doc]:
    """Documents whose `key` lies in [low, high) (after the cursor), in key order."""
    bounds: Doc = {"$gt": after} if after is not None and after >= low else {"$gte": low}
    cursor = db.case_index.find(
        {key: {**bounds, "$lt": high}}, sort=[(key, ASCENDING)], limit=limit
    )
    return [d async for d in cursor]


# Drafts of answers, one per case (they stay with the case when it is forwarded)


async def get_draft(db: Db, *, appeal_id: str) -> Doc | None:
    return await db.drafts.find_one({"_id": appeal_id})


async def save_draft(db: Db, *, appeal_id: str, text: str, login: str, at: datetime) -> None:
    await db.drafts.update_one(
        {"_id": appeal_id}, {"$set": {"text": text, "login": login, "at": at}}, upsert=True
    )


async def delete_draft(
    db: Db, *, appeal_id: str, session: AsyncClientSession | None = None
) -> None:
    await db.drafts.delete_one({"_id": appeal_id}, session=session)


# Internal notes on a case


async def insert_note(db: Db, *, note: Doc) -> None:
    await db.notes.insert_one(note)


async def notes_of(db: Db, *, appeal_id: str) -> list[Doc]:
    cursor = db.notes.find({"appeal_id": appeal_id}, sort=[("at", ASCENDING)])
    return [n async for n in cursor]


# Topics (admin-managed) and answer templates (control office and admin)


async def list_topics(db: Db) -> list[Doc]:
    cursor = db.topics.find({}, sort=[("order", ASCENDING), ("_id", ASCENDING)])
    return [t async for t in cursor]


async def put_topic(db: Db, *, topic: Doc) -> None:
    await documents.put(db.topics, topic["_id"], topic)


async def list_templates(db: Db) -> list[Doc]:
    cursor = db.answer_templates.find({}, sort=[("department", ASCENDING), ("_id", ASCENDING)])
    return [t async for t in cursor]


async def get_template(db: Db, *, template_id: str) -> Doc | None:
    return await db.answer_templates.find_one({"_id": template_id})


async def put_template(db: Db, *, template: Doc) -> None:
    await documents.put(db.answer_templates, template["_id"], template)


async def delete_template(db: Db, *, template_id: str) -> bool:
    result = await db.answer_templates.delete_one({"_id": template_id})
    return result.deleted_count == 1


# When an official last looked at their inbox ("new since your last visit")


async def get_visit(db: Db, *, login: str) -> Doc | None:
    return await db.visits.find_one({"_id": login})


async def set_visit(db: Db, *, login: str, fields: Doc) -> None:
    await db.visits.update_one({"_id": login}, {"$set": fields}, upsert=True)
