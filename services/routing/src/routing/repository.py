"""routing's own database: the officials directory and the cases.

Every case query the API offers has an index whose equality fields come first and whose last
fields are the sort key and `appeal_id` (the tie-breaker of the keyset cursor), so a page is an
index range walk whatever the collection's size: no skip, no in-memory sort. The tie-breaker is
a copy of `_id` because nx-27017 cannot put `_id` in a compound index.

The two lists read most, an official's open cases and all open cases (the control office's
overdue and due-soon lists), both by control date, are served by composite keys each case
carries (`case_keys`): the equality parts and the sort value in one string under a one-field
index, so the page is one range on one index. nx-27017, the embedded server, walks such a range
in its index but turns an equality filter into a scan and uses no compound index; real MongoDB
serves the same query as well.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from dialog_platform import documents

Doc = dict[str, Any]
Db = AsyncDatabase[Doc]
Session = AsyncClientSession | None

# The picker never needs the photo bytes or the SMS phone.
PUBLIC_FIELDS = {"photo.data": 0, "phone": 0}
# A list row never needs the history, the video reference or the citizen's phone.
SUMMARY_FIELDS = {"history": 0, "video": 0, "phone": 0, "fired": 0}

# "<official>|<0 open, 1 answered>|<control date>|<appeal id>" and "<0|1>|<control date>|<appeal
# id>". Official ids never hold the separator, dates are fixed-width ISO, so the keys sort as
# (official, open, control date, appeal id) do, and a prefix's range ends at KEY_END, the
# character after the separator.
INBOX_KEY = "inbox_key"
OVERDUE_KEY = "overdue_key"
KEY_SEP = "|"
KEY_END = "}"
# Marks a database whose every case carries the keys (cases stored before them get them once).
KEYS_MARKER = {"_id": "case_keys", "version": 1}
KEYS_BATCH = 500

CASE_INDEXES: tuple[tuple[str, ...], ...] = (
    # One official's inbox, open cases by control date, and their due-soon / overdue lists;
    # the same over every case for the control office.
    (INBOX_KEY,),
    (OVERDUE_KEY,),
    ("official_id", "status", "control_date", "appeal_id"),
    ("official_id", "status", "recorded_at", "appeal_id"),
    ("official_id", "control_date", "appeal_id"),
    ("official_id", "recorded_at", "appeal_id"),
    # The control office's other lists.
    ("status", "control_date", "appeal_id"),
    ("status", "recorded_at", "appeal_id"),
    ("department", "open", "control_date", "appeal_id"),
    ("department", "control_date", "appeal_id"),
    ("department", "recorded_at", "appeal_id"),
    ("control_date", "appeal_id"),
    ("recorded_at", "appeal_id"),
    # The dashboard's topic filter.
    ("topic", "control_date", "appeal_id"),
    # Statistics by recorded and answered date.
    ("recorded_date",),
    ("answered_date",),
)


def case_keys(case: Doc) -> Doc:
    """The composite sort keys of a case; stored again whenever its handler, its open state or
    its control date changes."""
    open_ = case.get("open", case.get("status") != "answered")
    state = "0" if open_ else "1"
    tail = f"{case['control_date']}{KEY_SEP}{case['appeal_id']}"
    return {
        INBOX_KEY: f"{case['official_id']}{KEY_SEP}{state}{KEY_SEP}{tail}",
        OVERDUE_KEY: f"{state}{KEY_SEP}{tail}",
    }


async def create_indexes(db: Db) -> None:
    for keys in CASE_INDEXES:
        await db.cases.create_index([(k, ASCENDING) for k in keys])
    # Only cases with a timer still to fire carry the field; answered ones drop out of it.
    await db.cases.create_index([("next_check_at", ASCENDING)], sparse=True)
    # The disputed list reads the few cases a citizen rated, by the state of their dispute.
    await db.cases.create_index([("dispute.state", ASCENDING)], sparse=True)
    # An index over the keys lists only the cases that carry them.
    await add_missing_case_keys(db)


async def add_missing_case_keys(db: Db) -> int:
    """Give the keys to cases stored before routing kept them; once per database."""
    if await db.meta.find_one(KEYS_MARKER) is not None:
        return 0
    added, last = 0, ""
    fields = {"official_id": 1, "open": 1, "status": 1, "control_date": 1, "appeal_id": 1}
    while True:
        batch = [
            c
            async for c in db.cases.find(
                {INBOX_KEY: {"$exists": False}, "_id": {"$gt": last}},
                fields,
                sort=[("_id", ASCENDING)],
                limit=KEYS_BATCH,
            )
        ]
        for case in batch:
            # Guarded: a case changed meanwhile got its keys with that change.
            result = await db.cases.update_one(
                {"_id": case["_id"], INBOX_KEY: {"$exists": False}},
                {"$set": case_keys({"appeal_id": case["_id"], **case})},
            )
            added += result.modified_count
        if len(batch) < KEYS_BATCH:
            break
        last = batch[-1]["_id"]
    await documents.put(db.meta, KEYS_MARKER["_id"], KEYS_MARKER)
    return added


# --- officials -------------------------------------------------------------------------------


async def count_officials(db: Db) -> int:
    return await db.officials.count_documents({})


async def upsert_official(db: Db, *, official: Doc, session: Session = None) -> None:
    await documents.put(db.officials, official["_id"], official, session=session)


async def insert_official(db: Db, *, official: Doc, session: Session = None) -> None:
    await db.officials.insert_one(official, session=session)


async def update_official(
    db: Db, *, official_id: str, changes: Doc, unset: list[str], session: Session = None
) -> bool:
    # Every change bumps the version the read models of the gateway and the notifier keep.
    update: Doc = {"$inc": {"version": 1}}
    if changes:
        update["$set"] = changes
    if unset:
        update["$unset"] = dict.fromkeys(unset, "")
    result = await db.officials.update_one({"_id": official_id}, update, session=session)
    return result.matched_count == 1


async def all_officials(db: Db, *, session: Session = None) -> list[Doc]:
    """Every official, inactive ones too, phone included (the snapshot; no photo bytes)."""
    cursor = db.officials.find(
        {}, {"photo.data": 0}, sort=[("order", ASCENDING), ("_id", ASCENDING)], session=session
    )
    return [o async for o in cursor]


async def next_order(db: Db) -> int:
    last = await db.officials.find_one({}, {"order": 1}, sort=[("order", DESCENDING)])
    return int(last.get("order", 0)) + 1 if last else 0


async def list_officials(db: Db, *, active_only: bool) -> list[Doc]:
    query: Doc = {"active": True} if active_only else {}
    cursor = db.officials.find(
        query, PUBLIC_FIELDS, sort=[("order", ASCENDING), ("_id", ASCENDING)]
    )
    return [o async for o in cursor]


async def get_official(
    db: Db, *, official_id: str, with_phone: bool = False, session: Session = None
) -> Doc | None:
    fields = {"photo.data": 0} if with_phone else PUBLIC_FIELDS
    return await db.officials.find_one({"_id": official_id}, fields, session=session)


async def get_officials(db: Db, *, ids: list[str]) -> dict[str, Doc]:
    cursor = db.officials.find({"_id": {"$in": ids}}, PUBLIC_FIELDS)
    return {o["_id"]: o async for o in cursor}


async def get_contact(db: Db, *, official_id: str) -> Doc | None:
    return await db.officials.find_one(
        {"_id": official_id}, {"phone": 1, "language": 1, "supervisor_id": 1, "full_name": 1}
    )


async def get_photo(db: Db, *, official_id: str, session: Session = None) -> Doc | None:
    stored = await db.photos.find_one({"_id": official_id}, session=session)
    if stored is not None:
        return stored
    # Directories seeded before photos had their own collection keep the bytes inline.
    doc = await db.officials.find_one({"_id": official_id}, {"photo": 1}, session=session)
    photo = doc.get("photo") if doc else None
    return photo if photo and photo.get("data") is not None else None


async def set_photo(
    db: Db, *, official_id: str, photo: Doc, now: datetime, session: Session = None
) -> bool:
    """Bytes in their own collection (whole-document writes), the version on the official."""
    await documents.put(db.photos, official_id, photo, session=session)
    result = await db.officials.update_one(
        {"_id": official_id},
        {
            "$set": {
                "photo": {"content_type": photo["content_type"], "etag": photo["etag"]},
                "updated_at": now,
            },
            "$inc": {"version": 1},
        },
        session=session,
    )
    return result.matched_count == 1


# --- cases -----------------------------------------------------------------------------------


async def get_case(db: Db, *, appeal_id: str, session: Session = None) -> Doc | None:
    return await db.cases.find_one({"_id": appeal_id}, session=session)


async def insert_case(db: Db, *, case: Doc, session: AsyncClientSession) -> None:
    await db.cases.insert_one(case, session=session)


async def update_case(
    db: Db,
    *,
    appeal_id: str,
    guard: Doc,
    changes: Doc,
    history: list[Doc] | None = None,
    unset: list[str] | None = None,
    fired: list[str] | None = None,
    session: Session = None,
) -> Doc | None:
    """Apply `changes` if the case still matches `guard`; the case after, or None if it did not.

    The guard makes each change conditional on the state it was decided on, so a redelivered
    event or a second replica doing the same work changes nothing.
    """
    update: Doc = {"$set": changes}
    push: Doc = {}
    if history:
        push["history"] = {"$each": history}
    if fired:
        push["fired"] = {"$each": fired}
    if push:
        update["$push"] = push
    if unset:
        update["$unset"] = dict.fromkeys(unset, "")
    return await db.cases.find_one_and_update(
        {"_id": appeal_id, **guard},
        update,
        return_document=ReturnDocument.AFTER,
        session=session,
    )


async def find_cases(
    db: Db, *, query: Doc, sort_field: str, descending: bool, limit: int
) -> list[Doc]:
    """One page in index order; `query` already holds the keyset condition for `after`."""
    direction = DESCENDING if descending else ASCENDING
    cursor = db.cases.find(
        query,
        SUMMARY_FIELDS,
        sort=[(sort_field, direction), ("appeal_id", direction)],
        limit=limit,
    )
    return [c async for c in cursor]


async def find_by_key(db: Db, *, key: str, bounds: Doc, descending: bool, limit: int) -> list[Doc]:
    """One page of a composite key's range (`bounds`, keyset condition included), in its order."""
    direction = DESCENDING if descending else ASCENDING
    cursor = db.cases.find({key: bounds}, SUMMARY_FIELDS, sort=[(key, direction)], limit=limit)
    return [c async for c in cursor]


async def due_for_check(db: Db, *, now_ts: float, limit: int) -> list[str]:
    cursor = db.cases.find(
        {"next_check_at": {"$lte": now_ts}},
        {"_id": 1},
        sort=[("next_check_at", ASCENDING)],
        limit=limit,
    )
    return [c["_id"] async for c in cursor]


STATS_FIELDS = {
    "topic": 1,
    "official_id": 1,
    "department": 1,
    "status": 1,
    "recorded_date": 1,
    "answered_date": 1,
    "control_date": 1,
    "rating.helped": 1,
}


async def cases_recorded_between(
    db: Db, *, first: str, last: str, department: str | None
) -> list[Doc]:
    query: Doc = {"recorded_date": {"$gte": first, "$lte": last}}
    if department:
        query["department"] = department
    return [c async for c in db.cases.find(query, STATS_FIELDS)]


async def cases_answered_between(
    db: Db, *, first: str, last: str, department: str | None
) -> list[Doc]:
    query: Doc = {"answered_date": {"$gte": first, "$lte": last}}
    if department:
        query["department"] = department
    return [c async for c in db.cases.find(query, {"answered_date": 1})]


async def open_departments(db: Db) -> list[str | None]:
    """The departments that have open cases (None for cases of no department)."""
    found = await db.cases.distinct("department", {"open": True})
    return [d if isinstance(d, str) else None for d in found]


async def count_cases(db: Db, *, query: Doc) -> int:
    return int(await db.cases.count_documents(query))
