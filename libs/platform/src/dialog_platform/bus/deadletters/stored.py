"""The single process's dead letters, one document per (consumer, event) in `<db_prefix>_bus`."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dialog_contracts import Envelope

from ..wire import REASON_MAX_CHARS
from .model import (
    MAX_WALK,
    DeadLetter,
    DeadLetters,
    DlqSummary,
    UnknownQueue,
    age_s,
    consumed_by,
    dlq_of,
    header_dt,
    known_dlqs,
    queue_for,
)

if TYPE_CHECKING:
    from pymongo.asynchronous.database import AsyncDatabase


def _as_letter(doc: dict[str, Any]) -> DeadLetter:
    envelope = doc.get("envelope") or {}
    at = doc.get("failed_at") or doc.get("at")
    time = envelope.get("time")
    if isinstance(time, str):
        time = header_dt(time)
    return DeadLetter(
        id=str(envelope.get("id") or doc["_id"]),
        type=envelope.get("type"),
        consumer=doc.get("consumer"),
        attempts=int(doc.get("attempts") or 0),
        reason=doc.get("reason"),
        failed_at=at.replace(tzinfo=UTC) if isinstance(at, datetime) and not at.tzinfo else at,
        subject=envelope.get("subject"),
        time=time if isinstance(time, datetime) else None,
    )


class StoredDeadLetters(DeadLetters):
    """Dead letters of the in-process bus, in `<db_prefix>_bus.dead_letters`."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]], namespace: str = "dialog") -> None:
        self._db = db
        self._namespace = namespace

    @property
    def _docs(self) -> Any:
        return self._db["dead_letters"]

    async def record(self, envelope: Envelope, consumer: str, reason: str, attempts: int) -> None:
        queue = queue_for(self._namespace, consumer, envelope)
        await self._docs.update_one(
            # One per consumer and event: a redelivery that fails again updates, never adds.
            {"_id": f"{consumer}:{envelope.id}"},
            {
                "$set": {
                    "consumer": consumer,
                    "queue": queue,
                    "dlq": dlq_of(queue),
                    "reason": reason[:REASON_MAX_CHARS],
                    "attempts": attempts,
                    "envelope": envelope.model_dump(mode="json"),
                    "failed_at": datetime.now(UTC),
                },
                "$unset": {"replay_requested_at": ""},
            },
            upsert=True,
        )

    async def _waiting(self, dlq: str, limit: int = MAX_WALK) -> list[dict[str, Any]]:
        cursor = self._docs.find({"dlq": dlq, "replay_requested_at": {"$exists": False}})
        docs = [d async for d in cursor.sort("failed_at", 1).limit(limit)]
        return docs

    async def _known(self, queue: str) -> str:
        dlq = dlq_of(queue)
        if dlq in known_dlqs(self._namespace):
            return dlq
        if await self._docs.find_one({"dlq": dlq}) is None:
            raise UnknownQueue(queue)
        return dlq

    async def summary(self) -> list[DlqSummary]:
        now = datetime.now(UTC)
        present = await self._docs.distinct("dlq", {"replay_requested_at": {"$exists": False}})
        found: list[DlqSummary] = []
        for dlq in known_dlqs(self._namespace, [q for q in present if isinstance(q, str)]):
            docs = await self._waiting(dlq)
            letters = [_as_letter(d) for d in docs]
            times = [d.failed_at for d in letters if d.failed_at is not None]
            found.append(
                DlqSummary(
                    dlq,
                    len(letters),
                    age_s(min(times), now) if times else None,
                    letters[-1].reason if letters else None,
                )
            )
        return found

    async def counts(self, consumers: Collection[str]) -> dict[str, int]:
        waiting = {"replay_requested_at": {"$exists": False}}
        present = await self._docs.distinct("dlq", waiting)
        found: dict[str, int] = {}
        for dlq in known_dlqs(self._namespace, [q for q in present if isinstance(q, str)]):
            if consumed_by(self._namespace, dlq, consumers) is not None:
                found[dlq] = await self._docs.count_documents({"dlq": dlq, **waiting})
        return found

    async def show(self, queue: str, limit: int = 20) -> list[DeadLetter]:
        dlq = await self._known(queue)
        return [_as_letter(d) for d in await self._waiting(dlq, limit)]

    async def replay(self, queue: str, ids: list[str] | None = None) -> int:
        dlq = await self._known(queue)
        selector: dict[str, Any] = {"dlq": dlq, "replay_requested_at": {"$exists": False}}
        if ids is not None:
            selector["envelope.id"] = {"$in": list(ids)}
        result = await self._docs.update_many(
            selector, {"$set": {"replay_requested_at": datetime.now(UTC)}}
        )
        return int(result.modified_count)

    async def drop(self, queue: str, id: str) -> bool:
        dlq = await self._known(queue)
        result = await self._docs.delete_one({"dlq": dlq, "envelope.id": id})
        return bool(result.deleted_count)

    async def take_replays(self, limit: int = 100) -> list[tuple[str, Envelope]]:
        """Claim requested replays: (consumer, envelope) each, removed from the store.

        Removed as they are claimed, so two claimers never both deliver one; one that fails
        again is recorded afresh by the bus.
        """
        taken: list[tuple[str, Envelope]] = []
        while len(taken) < limit:
            doc = await self._docs.find_one_and_delete(
                {"replay_requested_at": {"$exists": True}}, sort=[("replay_requested_at", 1)]
            )
            if doc is None:
                break
            try:
                envelope = Envelope.model_validate(doc["envelope"])
            except (KeyError, ValueError):
                continue  # an envelope that never parsed cannot be delivered again either
            taken.append((str(doc["consumer"]), envelope))
        return taken
