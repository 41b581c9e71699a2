"""Dead letters seen and replayed (`dialog dlq …`, the dashboard's admin page), in both modes.

- `AmqpDeadLetters`: the `<queue>.dlq` quorum queues on RabbitMQ, which nobody consumes.
- `StoredDeadLetters`: the single process's dead letters, one document per (consumer, event) in
  the `<db_prefix>_bus` database. A replay only marks a document: the command runs in another
  process than `dialog run`, whose in-process bus claims marked ones with `take_replays()`.

A replay hands the message to its consumer once more with its attempts reset; consumers are
idempotent, so a replay of something already handled does no harm. What is shown of a message
is its envelope's type, id, subject and time and the failure, never the `data` payload.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dialog_contracts import BINDINGS, EVENTS_BY_TYPE, Envelope, queue_name

from ..settings import CommonSettings

if TYPE_CHECKING:
    from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage
    from pymongo import AsyncMongoClient
    from pymongo.asynchronous.database import AsyncDatabase

DLQ_SUFFIX = ".dlq"
# basic.get is one round trip per message; a DLQ beyond this is a flood to be looked at with the
# broker's own tools, not walked by hand. Every call (summary, show, replay, drop) stops here.
MAX_WALK = 10_000
_REASON_MAX_CHARS = 1000

# The bus's headers (bus/amqp.py); repeated so that this module needs no aio-pika to import.
HEADER_ATTEMPTS = "x-dialog-attempts"
HEADER_REASON = "x-dialog-reason"
HEADER_CONSUMER = "x-dialog-consumer"
HEADER_QUEUE = "x-dialog-queue"
HEADER_FAILED_AT = "x-dialog-failed-at"
HEADER_REPLAYED_AT = "x-dialog-replayed-at"
_FAILURE_HEADERS = (HEADER_ATTEMPTS, HEADER_REASON, HEADER_CONSUMER, HEADER_QUEUE, HEADER_FAILED_AT)
_BROKER_HEADER_PREFIXES = ("x-death", "x-first-death-", "x-last-death-", "x-delivery-count")


class UnknownQueue(LookupError):
    """No such dead-letter queue."""

    def __init__(self, queue: str) -> None:
        super().__init__(f"no dead-letter queue {queue!r}")
        self.queue = queue


class ReplayRefused(RuntimeError):
    """The broker would not take a replayed copy; its dead letter stays where it was."""


@dataclass(frozen=True)
class DlqSummary:
    queue: str  # the dead-letter queue, `<consumer queue>.dlq`
    count: int
    oldest_age_s: float | None
    last_error: str | None


@dataclass(frozen=True)
class DeadLetter:
    id: str
    type: str | None
    consumer: str | None
    attempts: int
    reason: str | None
    failed_at: datetime | None
    subject: str | None
    time: datetime | None


def dlq_of(queue: str) -> str:
    """Either spelling of a queue (`notifier.appeal-routed` or `….dlq`) → the DLQ's name."""
    return queue if queue.endswith(DLQ_SUFFIX) else queue + DLQ_SUFFIX


def consumer_queue_of(dlq: str) -> str:
    return dlq[: -len(DLQ_SUFFIX)] if dlq.endswith(DLQ_SUFFIX) else dlq


def known_dlqs(namespace: str, extra_queues: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The DLQs of every consumer queue in the topology, then the caller's (per-kiosk) ones."""
    names = [dlq_of(queue_name(namespace, b.consumer, b.event)) for b in BINDINGS]
    names += [dlq_of(q) for q in extra_queues]
    return list(dict.fromkeys(names))


def queue_for(namespace: str, consumer: str, envelope: Envelope) -> str:
    """The consumer queue AMQP would have held this envelope in (per-kiosk ones included)."""
    event = EVENTS_BY_TYPE.get(envelope.type)
    if event is None:
        base = f"{consumer}.{envelope.type}"
        return base if namespace == "dialog" else f"{namespace}.{base}"
    suffix = ""
    try:
        key = envelope.parse(event).routing_key()
    except ValueError:
        key = event.ROUTING_KEY  # the data is what failed; the queue stays the event's own
    if key.startswith(event.ROUTING_KEY + "."):
        suffix = key[len(event.ROUTING_KEY) + 1 :]
    return queue_name(namespace, consumer, event, suffix)


def _age_s(at: datetime | None, now: datetime) -> float | None:
    if at is None:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return max((now - at).total_seconds(), 0.0)


def format_age(seconds: float | None) -> str:
    """`3m12s`, `2h05m`, `4d03h`; `—` when unknown."""
    if seconds is None:
        return "—"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def consumed_by(namespace: str, dlq: str, consumers: Collection[str]) -> str | None:
    """The consumer (of `consumers`) whose queue `dlq` dead-letters, else None."""
    name = dlq if namespace == "dialog" else dlq.removeprefix(f"{namespace}.")
    consumer = name.split(".", 1)[0]
    return consumer if consumer in consumers else None


class DeadLetters(abc.ABC):
    """The dead-letter queues of one deployment."""

    @abc.abstractmethod
    async def counts(self, consumers: Collection[str]) -> dict[str, int]:
        """Messages waiting per DLQ of the given consumers' queues, cheaply (for `/metrics`)."""

    @abc.abstractmethod
    async def summary(self) -> list[DlqSummary]:
        """Every known dead-letter queue, empty ones included, in topology order."""

    @abc.abstractmethod
    async def show(self, queue: str, limit: int = 20) -> list[DeadLetter]:
        """Up to `limit` messages, oldest first, left where they are."""

    @abc.abstractmethod
    async def replay(self, queue: str, ids: list[str] | None = None) -> int:
        """Hand the selected messages (None: all) back to their consumer; how many."""

    @abc.abstractmethod
    async def drop(self, queue: str, id: str) -> bool:
        """Remove one message for good; False when it was not there."""

    async def close(self) -> None:
        return None


# -- RabbitMQ ----------------------------------------------------------------------------------


def _header_dt(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _header_str(value: object) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return None if value is None else str(value)


def _from_message(message: AbstractIncomingMessage) -> DeadLetter:
    headers: dict[str, Any] = dict(message.headers or {})
    envelope: Envelope | None = None
    with contextlib.suppress(ValueError):
        envelope = Envelope.from_bytes(message.body)
    attempts = headers.get(HEADER_ATTEMPTS)
    return DeadLetter(
        id=(envelope.id if envelope else None) or message.message_id or "",
        type=envelope.type if envelope else message.type,
        consumer=_header_str(headers.get(HEADER_CONSUMER)),
        attempts=attempts if isinstance(attempts, int) and not isinstance(attempts, bool) else 0,
        reason=_header_str(headers.get(HEADER_REASON)),
        failed_at=_header_dt(headers.get(HEADER_FAILED_AT)),
        subject=envelope.subject if envelope else None,
        time=envelope.time if envelope else None,
    )


class AmqpDeadLetters(DeadLetters):
    """The `<queue>.dlq` queues, looked into with basic.get on a connection of its own.

    A message taken and not acked returns to its queue when its channel closes, so looking never
    loses one. (RabbitMQ 3.x: returns do not count towards a delivery limit; the DLQs have none.)
    """

    def __init__(
        self,
        url: str,
        namespace: str = "dialog",
        *,
        extra_queues: list[str] | tuple[str, ...] = (),
        publish_timeout_s: float = 30.0,
    ) -> None:
        self._url = url
        self._namespace = namespace
        self._extra = list(extra_queues)
        self._publish_timeout_s = publish_timeout_s
        self._connection: AbstractConnection | None = None
        self._lock = asyncio.Lock()

    async def _conn(self) -> AbstractConnection:
        import aio_pika

        async with self._lock:
            if self._connection is None or self._connection.is_closed:
                self._connection = await aio_pika.connect(
                    self._url, client_properties={"connection_name": "dialog dlq"}
                )
            return self._connection

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()

    async def _count(self, dlq: str) -> int | None:
        """Messages waiting in `dlq`; None when it does not exist."""
        import aiormq

        # A failed passive declare closes its channel: one channel per look.
        channel = await (await self._conn()).channel(publisher_confirms=False)
        try:
            queue = await channel.declare_queue(dlq, passive=True)
        except aiormq.exceptions.ChannelNotFoundEntity:
            return None
        finally:
            with contextlib.suppress(Exception):
                await channel.close()
        return queue.declaration_result.message_count or 0

    async def _known(self, queue: str) -> str:
        dlq = dlq_of(queue)
        if dlq in known_dlqs(self._namespace, self._extra):
            return dlq
        if await self._count(dlq) is None:
            raise UnknownQueue(queue)
        return dlq

    async def _walk(
        self, channel: AbstractChannel, dlq: str, limit: int
    ) -> list[AbstractIncomingMessage]:
        queue = await channel.get_queue(dlq, ensure=False)
        taken: list[AbstractIncomingMessage] = []
        while len(taken) < min(limit, MAX_WALK):
            message = await queue.get(no_ack=False, fail=False)
            if message is None:
                break
            taken.append(message)
        return taken

    async def summary(self) -> list[DlqSummary]:
        now = datetime.now(UTC)
        found: list[DlqSummary] = []
        for dlq in known_dlqs(self._namespace, self._extra):
            count = await self._count(dlq)
            if not count:
                found.append(DlqSummary(dlq, 0, None, None))
                continue
            channel = await (await self._conn()).channel(publisher_confirms=False)
            try:
                letters = [_from_message(m) for m in await self._walk(channel, dlq, MAX_WALK)]
            finally:
                with contextlib.suppress(Exception):
                    await channel.close()
            times = [d.failed_at for d in letters if d.failed_at is not None]
            latest = max(letters, key=lambda d: d.failed_at or datetime.min.replace(tzinfo=UTC))
            found.append(
                DlqSummary(
                    dlq,
                    count,
                    _age_s(min(times), now) if times else None,
                    latest.reason if letters else None,
                )
            )
        return found

    async def counts(self, consumers: Collection[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for dlq in known_dlqs(self._namespace, self._extra):
            if consumed_by(self._namespace, dlq, consumers) is not None:
                count = await self._count(dlq)
                if count is not None:
                    found[dlq] = count
        return found

    async def queue_counts(self, consumers: Collection[str]) -> dict[str, int]:
        """Messages ready in the given consumers' own queues (a backlog, not dead letters)."""
        found: dict[str, int] = {}
        for dlq in known_dlqs(self._namespace, self._extra):
            if consumed_by(self._namespace, dlq, consumers) is not None:
                count = await self._count(consumer_queue_of(dlq))
                if count is not None:
                    found[consumer_queue_of(dlq)] = count
        return found

    async def show(self, queue: str, limit: int = 20) -> list[DeadLetter]:
        dlq = await self._known(queue)
        channel = await (await self._conn()).channel(publisher_confirms=False)
        try:
            return [_from_message(m) for m in await self._walk(channel, dlq, limit)]
        finally:
            with contextlib.suppress(Exception):
                await channel.close()  # returns every message taken, unacked

    async def replay(self, queue: str, ids: list[str] | None = None) -> int:
        import aio_pika
        import aiormq

        dlq = await self._known(queue)
        target = consumer_queue_of(dlq)
        wanted = None if ids is None else set(ids)
        replayed = 0
        # A copy no queue takes must fail here, not be confirmed and lost with its original.
        channel = await (await self._conn()).channel(publisher_confirms=True, on_return_raises=True)
        try:
            for message in await self._walk(channel, dlq, MAX_WALK):
                if wanted is not None and _from_message(message).id not in wanted:
                    continue
                headers = {
                    k: v
                    for k, v in (message.headers or {}).items()
                    if k not in _FAILURE_HEADERS and not k.startswith(_BROKER_HEADER_PREFIXES)
                }
                headers[HEADER_REPLAYED_AT] = datetime.now(UTC).isoformat()
                copy = aio_pika.Message(
                    body=message.body,
                    headers=headers,
                    content_type=message.content_type,
                    content_encoding=message.content_encoding,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    message_id=message.message_id,
                    type=message.type,
                    timestamp=message.timestamp,
                    correlation_id=message.correlation_id,
                    app_id=message.app_id,
                )
                try:
                    async with asyncio.timeout(self._publish_timeout_s):
                        # Confirmed and routed (mandatory) before the dead letter goes: a crash
                        # in between leaves a duplicate, which the consumer shrugs off.
                        await channel.default_exchange.publish(copy, target, mandatory=True)
                except aiormq.exceptions.PublishError as exc:
                    raise ReplayRefused(f"no queue {target!r} takes the replay") from exc
                except aiormq.exceptions.DeliveryError as exc:
                    raise ReplayRefused(f"the broker refused the replay to {target!r}") from exc
                await message.ack()
                replayed += 1
        finally:
            with contextlib.suppress(Exception):
                await channel.close()  # the ones not selected go back
        return replayed

    async def drop(self, queue: str, id: str) -> bool:
        dlq = await self._known(queue)
        channel = await (await self._conn()).channel(publisher_confirms=False)
        try:
            for message in await self._walk(channel, dlq, MAX_WALK):
                if _from_message(message).id == id:
                    await message.ack()
                    return True
            return False
        finally:
            with contextlib.suppress(Exception):
                await channel.close()


# -- the single process ------------------------------------------------------------------------


def _as_letter(doc: dict[str, Any]) -> DeadLetter:
    envelope = doc.get("envelope") or {}
    at = doc.get("failed_at") or doc.get("at")
    time = envelope.get("time")
    if isinstance(time, str):
        time = _header_dt(time)
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
                    "reason": reason[:_REASON_MAX_CHARS],
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
                    _age_s(min(times), now) if times else None,
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


def open_dead_letters(
    settings: CommonSettings,
    mongo: AsyncMongoClient[dict[str, Any]] | None,
    *,
    extra_queues: list[str] | tuple[str, ...] = (),
) -> DeadLetters:
    """RabbitMQ's DLQs when `bus_url` is set, else the single process's stored dead letters."""
    if settings.bus_url is not None:
        return AmqpDeadLetters(
            settings.bus_url.get_secret_value(),
            settings.bus_namespace,
            extra_queues=extra_queues,
        )
    if mongo is None:
        raise ValueError("the in-process bus keeps its dead letters in the database; none given")
    return StoredDeadLetters(mongo[f"{settings.db_prefix}_bus"], settings.bus_namespace)


# A scrape every 15-30 s must not turn into a broker connection and a dozen declares each time.
DLQ_COUNT_CACHE_S = 10.0


def dlq_gauge(
    settings: CommonSettings,
    mongo: AsyncMongoClient[dict[str, Any]] | None,
    consumers: Collection[str],
) -> Callable[[], Awaitable[None]] | None:
    """A scrape-time callback setting `dialog_dlq_messages` for the DLQs of `consumers`' queues
    and, on RabbitMQ, `dialog_bus_queue_messages` for the queues themselves.

    Each process reports the queues its own components consume, so that no queue is counted
    twice across the deployment. None when there is nowhere to look (in-process, no database).
    """
    from ..metrics import BUS_QUEUE_MESSAGES, DLQ_MESSAGES

    if settings.bus_url is None and mongo is None:
        return None
    last = -DLQ_COUNT_CACHE_S

    async def refresh() -> None:
        nonlocal last
        if time.monotonic() - last < DLQ_COUNT_CACHE_S:
            return
        dead_letters = open_dead_letters(settings, mongo)
        backlog: dict[str, int] = {}
        try:
            counts = await dead_letters.counts(consumers)
            if isinstance(dead_letters, AmqpDeadLetters):
                backlog = await dead_letters.queue_counts(consumers)
        finally:
            await dead_letters.close()
        last = time.monotonic()
        namespace = settings.bus_namespace
        for dlq, count in counts.items():
            consumer = consumed_by(namespace, dlq, consumers) or "dialog"
            DLQ_MESSAGES.labels(consumer, consumer_queue_of(dlq)).set(count)
        for queue, count in backlog.items():
            consumer = consumed_by(namespace, queue, consumers) or "dialog"
            BUS_QUEUE_MESSAGES.labels(consumer, queue).set(count)

    return refresh
