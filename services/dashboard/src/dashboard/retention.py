"""The end of an appeal's storage period at the dashboard: the citizen's name, IIN and phone go
from the read model (and its search keys), the answer videos are marked gone (media-store
deletes them), and the audit log says that it happened, not what was removed.

What the control office's figures and CSV read (the handler, dates, topic, outcome, rating,
video length) is routing's or stays here untouched.
"""

from __future__ import annotations

from typing import Any

from dialog_contracts import AppealExpired, Envelope
from dialog_platform.bus import Bus
from dialog_platform.component import Clock
from dialog_platform.faults import Transient
from dialog_platform.outbox import Outbox

from . import audit
from . import repository as repo
from .search import INDEXED_KEYS, index_keys, name_words

SERVICE = "dashboard"
PERSONAL = ("full_name", "iin", "phone", "words")
ATTEMPTS = 50


async def forget_citizen(db: repo.Db, appeal_id: str) -> None:
    for _ in range(ATTEMPTS):
        doc = await repo.get_case_file(db, appeal_id=appeal_id)
        if doc is None:
            return
        kept: dict[str, Any] = {
            k: v for k, v in doc.items() if k not in INDEXED_KEYS and k not in PERSONAL
        }
        kept["words"] = name_words(None)
        # Still found by its number; no longer by a name, an IIN or a phone.
        kept.update(index_keys(kept))
        kept["rev"] = int(doc.get("rev", 0)) + 1
        if await repo.put_case_file(db, doc=kept, expected_rev=int(doc.get("rev", 0))):
            return
    raise Transient(f"case file {appeal_id} kept changing")


async def expired(db: repo.Db, outbox: Outbox, clock: Clock, event: AppealExpired) -> None:
    """Idempotent: a redelivery finds nothing left to remove and writes no second audit entry."""
    if "personal" in event.kinds:
        await forget_citizen(db, event.appeal_id)
        await outbox.forget(event.appeal_id)
    if "video" in event.kinds:
        await db.answers.update_many(
            {"appeal_id": event.appeal_id, "video_key": {"$ne": None}},
            {"$set": {"video_destroyed": True}},
        )
    done = await db.audit.find_one({"action": "retention", "appeal_id": event.appeal_id})
    if done is None or set(event.kinds) - set(done["detail"].get("kinds", [])):
        await audit.record(
            db,
            at=clock(),
            action="retention",
            login=None,
            appeal_id=event.appeal_id,
            detail={"kinds": sorted(event.kinds)},
        )


def subscribe(bus: Bus, db: repo.Db, outbox: Outbox, clock: Clock) -> None:
    async def on_expired(envelope: Envelope) -> None:
        await expired(db, outbox, clock, envelope.parse(AppealExpired))

    bus.subscribe(SERVICE, AppealExpired, on_expired)
