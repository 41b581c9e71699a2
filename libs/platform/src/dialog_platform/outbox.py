"""Transactional outbox: a state change and the events it causes are saved together, then relayed.

A service writes its documents and the outgoing envelopes in one transaction on its own database
(`Outbox.run`); the relay publishes pending envelopes with broker confirms and marks them
sent. A crash between commit and publish loses nothing: the relay picks the envelope up again.
A crash between publish and mark publishes twice, which consumers tolerate (they are idempotent).

A process whose relay runs publishes what it commits from memory: the entries are written
already leased to it (one insert for all of a transaction's events), queued after the commit,
published in commit order and marked sent together by `_id`. Claiming each entry back from the
database, and the empty claim that ended every wake, were a quarter of the database's work at a
region's peak. What the writer does not publish in time (it crashed, the broker refused) is the
database path's, once the lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pymongo import ASCENDING, ReturnDocument, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from dialog_contracts import Envelope, EventData

from . import metrics, tracing
from .bus import Bus, PublishError
from .faults import is_transient

log = logging.getLogger(__name__)

COLLECTION = "outbox"
LEASE_S = 30.0
PENDING = "pending"
SENT = "sent"
KEEP_SENT = timedelta(days=7)
# Entries published from memory before one command marks them sent: at a region's peak, one
# mark an entry was a sixth of a gateway's database commands. A crash re-sends at most these.
MARK_AT_ONCE = 64
# How often the relay removes envelopes past KEEP_SENT: after every wake it was a third of the
# relay's commands at a region's peak, for entries a week old.
CLEAN_EVERY_S = 60.0

T = TypeVar("T")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class _Entry:
    id: str
    routing_key: str
    envelope: Envelope


@dataclass
class Pending:
    """Events added inside a transaction; written to the outbox in the same transaction."""

    session: AsyncClientSession
    outbox: Outbox
    added: list[_Entry] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.added)

    def add(self, data: EventData) -> Envelope:
        """Add an event; it is written with the transaction's other writes, when `fn` returns
        (in one insert, so adding costs no round trip)."""
        # The entry keeps the trace of the request that wrote it; the relay publishes in it.
        envelope = tracing.stamp(Envelope.wrap(data, source=self.outbox.source))
        self.added.append(_Entry(envelope.id, data.routing_key(), envelope))
        return envelope

    async def write(self) -> None:
        """Write the added events in one command (a registration adds three)."""
        if not self.added:
            return
        now = _now()
        # Leased to this process's relay, which publishes them from memory; with none running
        # here, free for whichever relay looks first.
        lease_until = time.time() + LEASE_S if self.outbox.dispatches else 0.0
        await self.outbox.collection.insert_many(
            [
                {
                    "_id": entry.id,
                    "routing_key": entry.routing_key,
                    "envelope": entry.envelope.model_dump(mode="json", exclude_none=True),
                    "created_at": now,
                    # Explicit state and a numeric lease rather than nulls and dates: the
                    # queries stay simple for any MongoDB-wire server, the embedded one too.
                    "state": PENDING,
                    "lease_until": lease_until,
                    "attempts": 0,
                }
                for entry in self.added
            ],
            session=self.session,
        )


class Outbox:
    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        bus: Bus,
        *,
        source: str,
    ) -> None:
        self.db = db
        self.collection = db[COLLECTION]
        self.bus = bus
        self.source = source
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._cleaned_at: float | None = None
        self._unwatch: Callable[[], None] | None = None
        self._committed: deque[_Entry] = deque()

    @property
    def dispatches(self) -> bool:
        """Whether this process's relay publishes the entries it commits, from memory."""
        return self._task is not None

    async def create_indexes(self) -> None:
        await self.collection.create_index([("state", ASCENDING), ("created_at", ASCENDING)])

    async def run(self, fn: Callable[[Pending], Awaitable[T]]) -> T:
        """Run `fn` in a transaction with the driver's retries of transient errors.

        On a replica set, concurrent transactions touching the same document (a counter) abort
        with a transient error; `with_transaction` retries the whole callback.
        """
        client = self.db.client
        result: list[T] = []
        added: list[_Entry] = []
        async with client.start_session() as session:

            async def callback(s: AsyncClientSession) -> None:
                pending = Pending(session=s, outbox=self)
                result[:] = [await fn(pending)]
                await pending.write()
                added[:] = pending.added  # the attempt that commits; a retried one rolled back

            await session.with_transaction(callback)
        if added:
            if self.dispatches:
                self._committed.extend(added)
            self._wake.set()
        return result[0]

    def start(self, *, interval: float = 1.0) -> None:
        self._task = asyncio.create_task(self._run(interval), name=f"outbox-relay-{self.source}")
        self._unwatch = metrics.on_scrape(self.measure)

    async def measure(self) -> None:
        """Set the pending-entries gauges (at scrape time): a relay that stopped shows here."""
        service = metrics.service_of_source(self.source)
        pending = {"state": PENDING}
        count = await self.collection.count_documents(pending)
        oldest = await self.collection.find_one(pending, sort=[("created_at", ASCENDING)])
        age = 0.0
        if oldest is not None:
            created = oldest["created_at"]
            if created.tzinfo is None:
                created = created.replace(tzinfo=UTC)
            age = max((_now() - created).total_seconds(), 0.0)
        metrics.OUTBOX_PENDING.labels(service).set(count)
        metrics.OUTBOX_OLDEST_AGE.labels(service).set(age)

    async def stop(self) -> None:
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        # Not waiting out the lease: the next relay to look takes them at once.
        await self._hand_back(at=0.0)

    async def _set_each(self, ids: list[str], fields: dict[str, Any]) -> None:
        # Updates by `_id` in one command, not one `update_many` by `_id` in a list: the
        # embedded server applies that by reading every entry of the collection, database locked.
        await self.collection.bulk_write(
            [UpdateOne({"_id": i}, {"$set": fields}) for i in ids], ordered=False
        )

    async def _hand_back(self, *, at: float) -> None:
        """Give every queued entry to the database path, in order, from `at` (a time.time())."""
        if not self._committed:
            return
        ids = [e.id for e in self._committed]
        self._committed.clear()
        try:
            await self._set_each(ids, {"lease_until": at})
        except Exception as exc:  # their leases run out by themselves
            log.warning("outbox: could not release %d entries (%r)", len(ids), exc)

    async def dispatch_committed(self) -> int:
        """Publish what this process committed, in order; return how many were sent."""
        sent = 0
        while self._committed:
            published: list[str] = []
            try:
                while self._committed and len(published) < MARK_AT_ONCE:
                    entry = self._committed[0]
                    try:
                        with tracing.publishing(entry.envelope, entry.routing_key) as traced:
                            await self.bus.publish(traced, entry.routing_key)
                    except PublishError as exc:
                        log.error(
                            "outbox publish failed; will retry",
                            extra={
                                "event_id": entry.id,
                                "type": entry.envelope.type,
                                "error": str(exc),
                            },
                        )
                        # This one and all after it go to the database path's retries, in order.
                        await self._hand_back(at=time.time() + 1.0)
                        return sent + len(published)
                    self._committed.popleft()
                    published.append(entry.id)
            finally:
                # One command for all the entries just published: marked after their publish,
                # so a crash in between publishes them again, never loses one.
                if published:
                    await self._set_each(published, {"state": SENT, "sent_at": _now()})
            sent += len(published)
        return sent

    async def forget(self, subject: str) -> int:
        """Remove the sent envelopes about `subject` (an appeal past its storage period): they
        carry the citizen's data, and the week they are kept for diagnosis is over anyway."""
        result = await self.collection.delete_many({"state": SENT, "envelope.subject": subject})
        return result.deleted_count

    async def relay_once(self) -> int:
        """Publish every pending envelope; return how many were sent."""
        sent = 0
        while True:
            now = time.time()
            doc = await self.collection.find_one_and_update(
                {"state": PENDING, "lease_until": {"$lt": now}},
                {"$set": {"lease_until": now + LEASE_S}, "$inc": {"attempts": 1}},
                sort=[("created_at", ASCENDING)],
                return_document=ReturnDocument.AFTER,
            )
            if doc is None:
                return sent
            envelope = Envelope.model_validate(doc["envelope"])
            try:
                with tracing.publishing(envelope, doc["routing_key"]) as traced:
                    await self.bus.publish(traced, doc["routing_key"])
            except PublishError as exc:
                # Left pending with its lease: retried once the lease expires, in order.
                log.error(
                    "outbox publish failed; will retry",
                    extra={"event_id": envelope.id, "type": envelope.type, "error": str(exc)},
                )
                await self.collection.update_one(
                    {"_id": doc["_id"]},
                    {"$set": {"lease_until": time.time() + min(30, 2 ** doc["attempts"])}},
                )
                return sent
            await self.collection.update_one(
                {"_id": doc["_id"]}, {"$set": {"state": SENT, "sent_at": _now()}}
            )
            sent += 1

    async def _run(self, interval: float) -> None:
        # The database is looked at every `interval` for entries no writer published (a crashed
        # one, a refused publish); what this process commits wakes the loop and goes at once.
        look_at = 0.0
        while True:
            try:
                await self.dispatch_committed()
                if time.monotonic() >= look_at:
                    await self.relay_once()
                    look_at = time.monotonic() + interval
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not is_transient(exc):
                    log.exception("outbox relay error")
                else:  # the database is away for a moment; pending entries wait for it
                    log.warning("outbox relay: database unavailable (%r); retrying", exc)
                await self._hand_back(at=time.time() + 1.0)  # retried there, with its backoff
                look_at = time.monotonic() + interval
            started = time.monotonic()
            if self._cleaned_at is None or started - self._cleaned_at >= CLEAN_EVERY_S:
                try:
                    # Sent envelopes are kept a while for diagnosis, then removed.
                    await self.collection.delete_many(
                        {"state": SENT, "sent_at": {"$lt": _now() - KEEP_SENT}}
                    )
                    self._cleaned_at = started
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    if not is_transient(exc):
                        log.exception("outbox cleanup error")
            self._wake.clear()
            if self._committed:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, look_at - started))
