"""The dead letters on RabbitMQ: the `<queue>.dlq` quorum queues, which nobody consumes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Collection
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dialog_contracts import Envelope

from ..wire import (
    FAILURE_HEADERS,
    HEADER_ATTEMPTS,
    HEADER_CONSUMER,
    HEADER_FAILED_AT,
    HEADER_REASON,
    HEADER_REPLAYED_AT,
    copy_of,
)
from .model import (
    MAX_WALK,
    DeadLetter,
    DeadLetters,
    DlqSummary,
    ReplayRefused,
    UnknownQueue,
    age_s,
    consumed_by,
    consumer_queue_of,
    dlq_of,
    header_dt,
    header_str,
    known_dlqs,
)

if TYPE_CHECKING:
    from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage


def _from_message(message: AbstractIncomingMessage) -> DeadLetter:
    headers: dict[str, Any] = dict(message.headers or {})
    envelope: Envelope | None = None
    with contextlib.suppress(ValueError):
        envelope = Envelope.from_bytes(message.body)
    attempts = headers.get(HEADER_ATTEMPTS)
    return DeadLetter(
        id=(envelope.id if envelope else None) or message.message_id or "",
        type=envelope.type if envelope else message.type,
        consumer=header_str(headers.get(HEADER_CONSUMER)),
        attempts=attempts if isinstance(attempts, int) and not isinstance(attempts, bool) else 0,
        reason=header_str(headers.get(HEADER_REASON)),
        failed_at=header_dt(headers.get(HEADER_FAILED_AT)),
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
                    age_s(min(times), now) if times else None,
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
                replayed_at = {HEADER_REPLAYED_AT: datetime.now(UTC).isoformat()}
                copy = copy_of(message, replayed_at, drop=FAILURE_HEADERS)
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
