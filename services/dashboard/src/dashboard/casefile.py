"""The dashboard's read model of cases, kept from events: who is asking (name, IIN, phone), the
video's length, the current handler, and the search keys of all of these.

Several events of one appeal may be handled at once and in any order (each has its own queue), so
every change is a read, a merge and a write guarded by the document's revision, tried again when
another handler wrote in between. The handler is the latest one by event time: a forward that
arrives before the routing of the same case still wins.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dialog_platform.faults import Transient
from dialog_platform.locks import KeyedLocks

from . import repository as repo
from .search import INDEXED_KEYS, index_keys, name_words

Doc = dict[str, Any]
ATTEMPTS = 50
_writers = KeyedLocks()


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


async def record(
    db: repo.Db,
    appeal_id: str,
    fields: Doc,
    *,
    official_id: str | None = None,
    official_at: datetime | None = None,
) -> None:
    # Handlers in this process take turns on one case (an appeal's first events arrive
    # together); the revision still guards against other replicas.
    async with _writers.hold(appeal_id):
        await _record(db, appeal_id, fields, official_id=official_id, official_at=official_at)


async def _record(
    db: repo.Db,
    appeal_id: str,
    fields: Doc,
    *,
    official_id: str | None,
    official_at: datetime | None,
) -> None:
    for _ in range(ATTEMPTS):
        doc = await repo.get_case_file(db, appeal_id=appeal_id)
        merged: Doc = {
            k: v for k, v in (doc or {"_id": appeal_id}).items() if k not in INDEXED_KEYS
        }
        merged.update(fields)
        if official_id is not None and official_at is not None:
            stamp = _stamp(official_at)
            if stamp >= str(merged.get("official_at") or ""):
                merged["official_id"], merged["official_at"] = official_id, stamp
        merged["words"] = name_words(merged.get("full_name"))
        merged.update(index_keys(merged))
        merged["rev"] = int(merged.get("rev", 0)) + 1
        expected = int(doc.get("rev", 0)) if doc is not None else None
        if await repo.put_case_file(db, doc=merged, expected_rev=expected):
            return
    # Others kept writing the same case: a passing contention, so the bus tries again later
    # without using up the message's attempts.
    raise Transient(f"case file {appeal_id} kept changing")
