"""A versioned read model of another service's data, kept from its events and its snapshot.

Each document carries the producer's per-entity `version`; a write lands only when it is newer,
so redeliveries and late retries never bring back an older state. Filled from a snapshot on
first start and reconciled now and then in the background; when the producer is unreachable,
the last known copy stays and nothing waits on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from . import documents
from .clients import ServiceApi, Unavailable, unreachable_level

log = logging.getLogger(__name__)

Doc = dict[str, Any]
Row = tuple[str, int, Doc]
E = TypeVar("E")
RECONCILE_S = 300.0
RETRY_EMPTY_S = 10.0
# Until the first sync, tried again this soon, then twice as late each time up to RETRY_EMPTY_S:
# in one process the producer answers a moment after the start (its HTTP server listens once
# every component has started), and a copy kept from the last run is mended then, not at the
# first reconcile minutes later.
FIRST_RETRY_S = 0.5


async def apply(collection: AsyncCollection[Doc], doc_id: str, version: int, fields: Doc) -> bool:
    """Store `fields` as the state at `version` unless a newer one is kept; True if stored."""
    try:
        result = await documents.put(
            collection, doc_id, {**fields, "version": version}, where={"version": {"$lt": version}}
        )
    except DuplicateKeyError:
        return False  # kept at this version or a newer one
    return result.modified_count == 1 or result.upserted_id is not None


async def sync_from_snapshot(
    collection: AsyncCollection[Doc],
    fetch: Callable[[], Awaitable[list[tuple[str, int, Doc]]]],
) -> int:
    """Apply every (id, version, fields) of a snapshot; return how many were newer."""
    applied = 0
    for doc_id, version, fields in await fetch():
        if await apply(collection, doc_id, version, fields):
            applied += 1
    return applied


@dataclass(frozen=True)
class Snapshot:
    """Where the producer serves everything it announces, and which key of the body lists it."""

    path: str
    items: str
    params: dict[str, str] = field(default_factory=dict)
    timeout_s: float = 60.0


class Replica(Generic[E]):
    """One producer's entities in this service's own collection, each entity's event `E`
    written when newer and the producer's snapshot filling a fresh copy or mending a gap.

    A subclass says where the copy lives (`collection_name`), what one entity's event is
    (`event`) and where the snapshot is (`source`), and turns an event into its row.
    """

    collection_name: ClassVar[str]
    # Any, not E: a class variable cannot name the type parameter.
    event: ClassVar[type[Any]]
    source: ClassVar[Snapshot]

    def __init__(self, db: AsyncDatabase[Doc], producer: ServiceApi | None = None) -> None:
        self.db = db
        # An optional producer deployed without an address is no producer: the copy is then
        # kept from the events alone.
        self.producer = producer if producer is not None and producer.base_url else None

    @property
    def collection(self) -> AsyncCollection[Doc]:
        return self.db[self.collection_name]

    def row(self, event: E) -> Row:
        """(id, version, the fields kept) of one entity's event."""
        raise NotImplementedError

    async def changed(self, event: E) -> bool:
        return await apply(self.collection, *self.row(event))

    async def snapshot(self) -> list[Row]:
        if self.producer is None:
            raise Unavailable(f"no producer's address for {self.collection_name}")
        found = await self.producer.json(
            "GET", self.source.path, params=self.source.params, timeout_s=self.source.timeout_s
        )
        return [self.row(self.event.model_validate(item)) for item in found[self.source.items]]


class Reconciler:
    """Syncs at start (retrying soon while the read model is empty), then every few minutes."""

    def __init__(
        self,
        collection: AsyncCollection[Doc],
        fetch: Callable[[], Awaitable[list[tuple[str, int, Doc]]]],
        *,
        name: str,
        interval_s: float = RECONCILE_S,
    ) -> None:
        self.collection = collection
        self.fetch = fetch
        self.name = name
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._since = time.monotonic()
        self._synced = False

    async def once(self) -> bool:
        try:
            applied = await sync_from_snapshot(self.collection, self.fetch)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            level = logging.WARNING
            if isinstance(exc, Unavailable) and not self._synced:
                level = unreachable_level(self._since)
            log.log(
                level,
                "read model not synced; keeping the last known copy",
                extra={"read_model": self.name, "error": f"{type(exc).__name__}: {exc}"},
            )
            return False
        if applied or not self._synced:
            log.info("read model synced", extra={"read_model": self.name, "applied": applied})
        self._synced = True
        return True

    async def _run(self) -> None:
        retry = FIRST_RETRY_S
        while not await self.once():
            await asyncio.sleep(retry)
            retry = min(retry * 2, RETRY_EMPTY_S)
            if retry >= RETRY_EMPTY_S and await self.collection.count_documents({}) > 0:
                break  # a copy to serve meanwhile: the usual reconcile will mend it
        while True:
            await asyncio.sleep(self.interval_s)
            ok = await self.once()
            while not ok and await self.collection.count_documents({}) == 0:
                await asyncio.sleep(RETRY_EMPTY_S)
                ok = await self.once()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"replica-{self.name}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
