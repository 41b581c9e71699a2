"""The embedded server forces nx-27017's Python paths for writes only, so finds use indexes.

Each test fails on one of the two ways of getting this wrong: nx-27017 as published (its SQL
update path turns a `$set` datetime into a string) and the Python paths forced for everything
(a find scans the whole collection and misses explicit nulls).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from dialog_platform.documents import connect

Db = AsyncDatabase[dict[str, Any]]


@pytest.fixture
async def db(mongo_url: str, db_prefix: str) -> AsyncIterator[Db]:
    client = connect(mongo_url)
    try:
        yield client[f"{db_prefix}_fallback"]
    finally:
        await client.drop_database(f"{db_prefix}_fallback")
        await client.close()


async def test_a_datetime_set_on_a_stored_document_reads_back_as_a_datetime(db: Db) -> None:
    answered = datetime(2026, 11, 16, 9, 30, tzinfo=UTC)
    extended = datetime(2026, 11, 17, 14, 5, tzinfo=UTC)
    await db.cases.insert_one({"_id": "a1", "status": "new"})

    await db.cases.update_one({"_id": "a1"}, {"$set": {"answered_at": answered}})
    after = await db.cases.find_one_and_update(
        {"_id": "a1"},
        {"$set": {"extended_at": extended}},
        return_document=ReturnDocument.AFTER,
    )

    assert after is not None and after["extended_at"] == extended
    stored = await db.cases.find_one({"_id": "a1"})
    assert stored is not None
    assert isinstance(stored["answered_at"], datetime) and stored["answered_at"] == answered
    assert isinstance(stored["extended_at"], datetime) and stored["extended_at"] == extended
    # Compared as datetimes, not strings: a range on the field finds it.
    assert await db.cases.find_one({"answered_at": {"$lt": extended}}) is not None


async def test_null_or_missing_matches_after_a_transactional_write(db: Db) -> None:
    async with db.client.start_session() as session:
        await session.start_transaction()
        await db.cases.insert_one({"_id": "null", "answered_at": None}, session=session)
        await db.cases.insert_one({"_id": "missing"}, session=session)
        await db.cases.insert_one({"_id": "set", "answered_at": 1}, session=session)
        await session.commit_transaction()

    found = {c["_id"] async for c in db.cases.find({"answered_at": None})}
    # Not asserted: nx-27017 0.8.1 counts no explicit null through the aggregation PyMongo's
    # count_documents sends, forced or not; a find is what to use for null there.

    assert found == {"null", "missing"}
    assert await db.cases.count_documents({"answered_at": {"$exists": False}}) == 1


async def test_a_range_on_an_indexed_field_walks_the_index(db: Db) -> None:
    await db.cases.create_index([("inbox_key", ASCENDING)])
    await db.cases.insert_many(
        [{"_id": f"c{i}", "inbox_key": f"akim|0|{i:04d}"} for i in range(50)]
    )
    query = {"inbox_key": {"$gte": "akim|0|0010", "$lt": "akim|0|0020"}}

    plan = await db.command(
        "explain", {"find": "cases", "filter": query, "sort": {"inbox_key": 1}, "limit": 5}
    )
    rows = [c["_id"] async for c in db.cases.find(query, sort=[("inbox_key", 1)], limit=5)]

    assert "USING INDEX idx_cases_inbox_key" in json.dumps(plan["queryPlanner"]["winningPlan"])
    assert rows == ["c10", "c11", "c12", "c13", "c14"]


async def test_datetimes_compare_to_the_millisecond(db: Db) -> None:
    # Five events 0.3 s apart, the first four in one second: SQLite's datetime() would see them
    # as one instant.
    start = datetime(2026, 11, 16, 9, 30, tzinfo=UTC)
    at = [start + timedelta(milliseconds=300 * i) for i in range(5)]
    await db.events.insert_many([{"_id": i, "at": t} for i, t in enumerate(at)])

    async def ids(query: dict[str, Any]) -> list[int]:
        return [d["_id"] async for d in db.events.find(query, sort=[("at", ASCENDING)])]

    assert await ids({"at": {"$gt": at[1]}}) == [2, 3, 4]
    assert await ids({"at": {"$lte": at[2]}}) == [0, 1, 2]
    assert await ids({"at": at[2]}) == [2]
    assert await ids({"at": {"$gte": at[1], "$lt": at[3]}}) == [1, 2]


async def test_strings_that_look_like_dates_compare_as_strings(db: Db) -> None:
    # As in MongoDB: "2026-11-02T03:00+05:00" sorts after "2026-11-02T00:00", whatever instant
    # either names. (neosqlite compared them as dates, through a path that read every match.)
    await db.cases.insert_many(
        [
            {"_id": "a", "control_date": "2026-11-01"},
            {"_id": "b", "control_date": "2026-11-02T03:00:00+05:00"},
            {"_id": "c", "control_date": "2026-11-03"},
        ]
    )
    found = db.cases.find({"control_date": {"$lt": "2026-11-02T00:00:00"}}, sort=[("_id", 1)])
    assert [d["_id"] async for d in found] == ["a"]


async def test_projections_return_what_mongodb_returns(db: Db) -> None:
    # Plain projections take our copy-free path; the others stay neosqlite's. Both must answer
    # as MongoDB does, and a projection must never change the stored document.
    recorded = datetime(2026, 11, 16, 9, 30, tzinfo=UTC)
    doc = {
        "_id": "p1",
        "status": "new",
        "recorded_at": recorded,
        "history": [{"at": recorded, "what": "routed"}],
        "video": {"key": "v/p1.webm", "size": 10},
        "phone": "+77012345678",
    }
    await db.cases.insert_one(doc)

    excluded = await db.cases.find_one({"_id": "p1"}, {"history": 0, "phone": 0})
    assert excluded == {
        "_id": "p1",
        "status": "new",
        "recorded_at": recorded,
        "video": doc["video"],
    }
    included = await db.cases.find_one({"_id": "p1"}, {"status": 1, "video": 1})
    assert included == {"_id": "p1", "status": "new", "video": doc["video"]}
    no_id = await db.cases.find_one({"_id": "p1"}, {"status": True, "_id": False})
    assert no_id == {"status": "new"}
    only_id_out = await db.cases.find_one({"_id": "p1"}, {"_id": 0})
    assert only_id_out is not None and "_id" not in only_id_out and only_id_out["phone"]
    nested = await db.cases.find_one({"_id": "p1"}, {"video.key": 1})
    assert nested is not None and nested["video"] == {"key": "v/p1.webm"}

    pages = [c async for c in db.cases.find({}, {"history": 0}).limit(5)]
    assert pages == [{k: v for k, v in doc.items() if k != "history"}]
    assert await db.cases.find_one({"_id": "p1"}) == doc


async def test_projections_of_paths_into_documents_and_arrays(db: Db) -> None:
    doc = {
        "_id": "p2",
        "photo": {"data": b"\x89PNG" * 100, "type": "image/png"},
        "history": [{"at": 1, "what": "routed"}, {"at": 2, "what": "answered"}, "note"],
        "n": 5,
    }
    await db.officials.insert_one(doc)

    public = await db.officials.find_one({"_id": "p2"}, {"photo.data": 0})
    assert public is not None and public["photo"] == {"type": "image/png"}
    assert public["history"] == doc["history"] and public["n"] == 5
    whats = await db.officials.find_one({"_id": "p2"}, {"history.what": 1, "n.x": 1})
    assert whats == {"_id": "p2", "history": [{"what": "routed"}, {"what": "answered"}]}
    dropped = await db.officials.find_one({"_id": "p2"}, {"history.at": 0, "_id": 0})
    assert dropped is not None and "_id" not in dropped
    assert dropped["history"] == [{"what": "routed"}, {"what": "answered"}, "note"]
    assert await db.officials.find_one({"_id": "p2"}, {"_id": 1}) == {"_id": "p2"}
    assert await db.officials.find_one({"_id": "p2"}) == doc


async def test_object_ids_and_long_cursors_survive_the_reply_encoder(db: Db) -> None:
    from bson import ObjectId

    oid = ObjectId()
    await db.audit.insert_one({"_id": oid, "refs": [ObjectId()], "at": {"by": ObjectId()}})
    stored = await db.audit.find_one({"_id": oid})
    assert stored is not None and stored["_id"] == oid and isinstance(stored["refs"][0], ObjectId)
    assert isinstance(stored["at"]["by"], ObjectId)

    # More rows than a first batch holds: the driver follows the cursor id with getMore.
    await db.many.insert_many([{"_id": f"r{i}", "n": i, "id": 0} for i in range(250)])
    rows = [r async for r in db.many.find({}, sort=[("n", ASCENDING)])]
    assert [r["n"] for r in rows] == list(range(250))
    assert all(r["id"] == 0 for r in rows)
