"""kiosk-gateway's own database: kiosks, appeals, the registration counter."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from dialog_platform import documents

Doc = dict[str, Any]
Db = AsyncDatabase[Doc]


async def create_indexes(db: Db) -> None:
    await db.kiosks.create_index("token_hash", unique=True)
    await db.appeals.create_index("registration_number", unique=True, sparse=True)
    await db.appeals.create_index([("status", ASCENDING), ("expires_at", ASCENDING)])
    await db.kiosk_sessions.create_index("kiosk_id")


# Kiosks


async def insert_kiosk(
    db: Db, *, kiosk_id: str, location: str, token_hash: str, now: datetime
) -> bool:
    try:
        await db.kiosks.insert_one(
            {
                "_id": kiosk_id,
                "location": location,
                "token_hash": token_hash,
                "created_at": now,
                "revoked_at": None,
            }
        )
    except DuplicateKeyError:
        return False
    return True


async def set_kiosk_center(db: Db, *, kiosk_id: str, center: str) -> None:
    await db.kiosks.update_one({"_id": kiosk_id}, {"$set": {"center": center}})


async def rotate_kiosk_token(db: Db, *, kiosk_id: str, token_hash: str, now: datetime) -> bool:
    result = await db.kiosks.update_one(
        {"_id": kiosk_id},
        {"$set": {"token_hash": token_hash, "revoked_at": None, "rotated_at": now}},
    )
    return result.matched_count == 1


async def revoke_kiosk(db: Db, *, kiosk_id: str, now: datetime) -> bool:
    result = await db.kiosks.update_one({"_id": kiosk_id}, {"$set": {"revoked_at": now}})
    return result.matched_count == 1


async def find_kiosk_by_token(db: Db, *, token_hash: str) -> Doc | None:
    return await db.kiosks.find_one({"token_hash": token_hash})


async def get_kiosk(db: Db, *, kiosk_id: str) -> Doc | None:
    return await db.kiosks.find_one({"_id": kiosk_id})


async def touch_kiosk(db: Db, *, kiosk_id: str, now: datetime) -> None:
    await db.kiosks.update_one({"_id": kiosk_id}, {"$set": {"last_seen_at": now}})


async def insert_kiosk_session(
    db: Db, *, session_hash: str, kiosk_id: str, token_hash: str, now: datetime
) -> None:
    await db.kiosk_sessions.insert_one(
        {"_id": session_hash, "kiosk_id": kiosk_id, "token_hash": token_hash, "created_at": now}
    )


async def find_kiosk_session(db: Db, *, session_hash: str) -> Doc | None:
    return await db.kiosk_sessions.find_one({"_id": session_hash})


async def delete_kiosk_sessions(db: Db, *, kiosk_id: str) -> None:
    await db.kiosk_sessions.delete_many({"kiosk_id": kiosk_id})


async def list_kiosks(db: Db) -> list[Doc]:
    return [k async for k in db.kiosks.find({}, sort=[("_id", ASCENDING)])]


# Appeals


async def insert_appeal(db: Db, *, appeal: Doc) -> None:
    await db.appeals.insert_one(appeal)


async def get_appeal(
    db: Db, *, appeal_id: str, session: AsyncClientSession | None = None
) -> Doc | None:
    return await db.appeals.find_one({"_id": appeal_id}, session=session)


async def find_by_number(db: Db, *, registration_number: str) -> Doc | None:
    return await db.appeals.find_one({"registration_number": registration_number})


async def replace_access_code_hash(db: Db, *, appeal_id: str, old: str, new: str) -> bool:
    result = await db.appeals.update_one(
        {"_id": appeal_id, "access_code_hash": old}, {"$set": {"access_code_hash": new}}
    )
    return result.modified_count == 1


async def set_video(
    db: Db, *, appeal_id: str, video: Doc, expected_status: tuple[str, ...], now: datetime
) -> Doc | None:
    """Attach a stored video; returns the appeal as it was, or None if its state changed."""
    return await db.appeals.find_one_and_update(
        {"_id": appeal_id, "status": {"$in": list(expected_status)}},
        {"$set": {"video": video, "status": "uploaded", "updated_at": now}},
        return_document=ReturnDocument.BEFORE,
    )


async def next_sequence(db: Db, *, year: int, session: AsyncClientSession) -> int:
    doc = await db.counters.find_one_and_update(
        {"_id": f"registration-{year}"},
        {"$inc": {"seq": 1}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    assert doc is not None
    return int(doc["seq"])


async def mark_submitted(
    db: Db, *, appeal_id: str, fields: Doc, session: AsyncClientSession
) -> bool:
    result = await db.appeals.update_one(
        {"_id": appeal_id, "status": "uploaded"},
        {"$set": {**fields, "status": "submitted"}},
        session=session,
    )
    return result.modified_count == 1


async def record_receipt(
    db: Db, *, appeal_id: str, copy_number: int, state: Doc, clear_pending_code: bool
) -> None:
    update: Doc = {"$set": {f"receipts.{copy_number}": state}}
    if clear_pending_code:
        # The code was kept readable only so the booth could show it again until the receipt
        # came out; from now on only its hash remains.
        update["$unset"] = {"access_code_pending": ""}
    await db.appeals.update_one({"_id": appeal_id}, update)


async def record_answer(db: Db, *, appeal_id: str, answer: Doc) -> bool:
    """Remember that the appeal is answered; a redelivered older event never undoes a newer one.

    Kept apart from the appeal document: the receipt's handler writes that one at the same
    moment, and the embedded nx-27017 server does not merge concurrent updates of one document.
    """
    try:
        result = await documents.put(
            db.answers, appeal_id, answer, where={"answered_at": {"$lte": answer["answered_at"]}}
        )
    except DuplicateKeyError:
        return False  # a newer answer is already recorded
    return result.modified_count == 1 or result.upserted_id is not None


async def get_answer(db: Db, *, appeal_id: str) -> Doc | None:
    return await db.answers.find_one({"_id": appeal_id})


async def get_rating(db: Db, *, appeal_id: str) -> Doc | None:
    return await db.ratings.find_one({"_id": appeal_id})


async def save_rating(
    db: Db, *, appeal_id: str, rating: Doc, previous: datetime | None, session: AsyncClientSession
) -> bool:
    """Replace the rating read as `previous` (None: the first one); False if another rating
    came in between. Kept apart from the appeal document, as the answer is."""
    if previous is None:
        try:
            await db.ratings.insert_one({"_id": appeal_id, **rating}, session=session)
        except DuplicateKeyError:
            return False
        return True
    result = await db.ratings.replace_one(
        {"_id": appeal_id, "rated_at": previous}, {"_id": appeal_id, **rating}, session=session
    )
    return result.modified_count == 1


async def next_receipt_copy(
    db: Db, *, appeal_id: str, kiosk_id: str, session: AsyncClientSession
) -> int:
    """The next copy number of an appeal's receipt (copy 1 is the one printed at submit)."""
    doc = await db.appeals.find_one_and_update(
        {"_id": appeal_id},
        {"$inc": {"receipt_copies": 1}},
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    assert doc is not None
    copy = int(doc["receipt_copies"]) + 1
    await db.appeals.update_one(
        {"_id": appeal_id},
        {"$set": {f"receipts.{copy}": {"status": "pending", "kiosk_id": kiosk_id}}},
        session=session,
    )
    return copy


DRAFT_STATUSES = ("draft", "uploaded")


async def expired_drafts(db: Db, *, now: datetime, limit: int = 100) -> list[Doc]:
    # One query a status, not `$in`: the embedded server (neosqlite 1.17.2) answers an `$in`
    # beside a date range by decoding every appeal ever made in Python (40 ms and 3.5 MB a
    # thousand, every five minutes); an equality beside the range is SQL on the index.
    found: list[Doc] = []
    for status in DRAFT_STATUSES:
        cursor = db.appeals.find(
            {"status": status, "expires_at": {"$lt": now}}, limit=limit - len(found)
        )
        found += [d async for d in cursor]
        if len(found) >= limit:
            break
    return found


async def delete_draft(db: Db, *, appeal_id: str) -> bool:
    result = await db.appeals.delete_one(
        {"_id": appeal_id, "status": {"$in": list(DRAFT_STATUSES)}}
    )
    return result.deleted_count == 1


# Look-up: the lockout of wrong codes is dialog_platform.ratelimit.Lockout over `code_failures`.


async def issued_sequence(db: Db, *, year: int) -> int:
    """The last sequence number issued in `year` (0 before the first)."""
    doc = await db.counters.find_one({"_id": f"registration-{year}"})
    return int(doc["seq"]) if doc else 0
