"""The gateway's housekeeping: drafts nobody submitted are found once they expire, no others."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import AsyncMongoClient

from kiosk_gateway import repository as repo

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


async def test_expired_drafts_are_the_unsubmitted_ones_past_their_time(
    mongo_url: str, db_prefix: str
) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    try:
        db = client[f"{db_prefix}_kiosk_gateway"]
        await repo.create_indexes(db)
        past, future = NOW - timedelta(minutes=1), NOW + timedelta(minutes=1)
        await db.appeals.insert_many(
            [
                {"_id": "walked-away", "status": "draft", "expires_at": past},
                {"_id": "recorded-then-left", "status": "uploaded", "expires_at": past},
                {"_id": "still-recording", "status": "draft", "expires_at": future},
                {"_id": "still-reviewing", "status": "uploaded", "expires_at": future},
                {"_id": "submitted", "status": "submitted", "expires_at": past},
            ]
        )
        found = await repo.expired_drafts(db, now=NOW)
        assert sorted(d["_id"] for d in found) == ["recorded-then-left", "walked-away"]
        # A batch at a time: the housekeeping comes back for the rest five minutes later.
        assert len(await repo.expired_drafts(db, now=NOW, limit=1)) == 1
    finally:
        await client.close()
