"""The RabbitMQ topology the bus declares, all durable, names from `dialog_contracts.topology`:

- one topic exchange `<namespace>.events`;
- per consumer and event a quorum queue bound with the event's routing key (a per-kiosk queue with
  `<routing key>.<kiosk id>`);
- per consumer queue the dead-letter queue `<queue>.dlq`, which nobody consumes;
- per namespace and backoff delay of a retry policy one fanout exchange and one retry queue, both
  `<namespace>.retry.<ms>ms`, whose fixed TTL dead-letters each message through the default
  exchange by the routing key it was published with: the name of the consumer queue it retries.

A retry is published to the delay's exchange with the failing queue's name as its routing key, so
it comes back to that queue only, never through the topic exchange: a republish there would hand
the message again to every consumer that already handled it. One retry queue per delay, not one
queue with per-message TTLs, because the broker only expires messages at the head of a queue: a
64 s retry would hold back a 1 s one. Shared by the namespace rather than one set per consumer
queue: every quorum queue holds a few of the broker's file handles, and a region's booths each
have a queue of their own (six queues a booth before, two now).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Coroutine, Iterable
from typing import Any

from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange, ExchangeType

from dialog_contracts import EventData, exchange_name, queue_name

from ..base import RetryPolicy, routing_key_for
from ..wire import dlq_name

# The broker itself dead-letters a message delivered this many times without ack or reject: a
# message that kills its consumer process outright never reaches the retry logic here. It is a
# queue argument, so changing it makes re-declaring existing queues fail (PRECONDITION_FAILED).
DELIVERY_LIMIT = 20
# Channels a session declares its queues over at once (a few are enough to overlap the round
# trips; each is closed once the declarations are done).
DECLARE_CHANNELS = 8

# (consumer, event, key suffix, with its dead-letter queue) of a queue to declare.
QueueSpec = tuple[str, type[EventData], str, bool]


def retry_queue_name(namespace: str, delay_ms: int) -> str:
    """The retry queue of one delay, and its fanout exchange of the same name.

    Named by delay so that a changed policy declares new queues instead of clashing with the
    arguments of the old ones. Queues of the older per-consumer layout (`<queue>.retry.<ms>ms`)
    still drain back into their queue and can be deleted once empty.
    """
    return f"{namespace}.retry.{delay_ms}ms"


def _consumer_queue_arguments(queue: str) -> dict[str, Any]:
    return {
        "x-queue-type": "quorum",
        "x-delivery-limit": DELIVERY_LIMIT,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": dlq_name(queue),
        # At-most-once (the default) would drop the message if the DLQ were briefly unavailable;
        # at-least-once dead-lettering requires reject-publish overflow.
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }


def _retry_queue_arguments(delay_ms: int) -> dict[str, Any]:
    # No dead-letter routing key: an expired message goes back by the key it was published
    # with, the name of the queue it retries.
    return {
        "x-queue-type": "quorum",
        "x-message-ttl": delay_ms,
        "x-dead-letter-exchange": "",
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }


_DLQ_ARGUMENTS: dict[str, Any] = {"x-queue-type": "quorum"}


async def all_at_once(work: Iterable[Coroutine[Any, Any, None]]) -> None:
    """Run `work` at once; on the first failure cancel the rest and raise that failure itself
    (not an ExceptionGroup), so that callers tell a lost connection from a refused declaration
    as they did when the steps ran one after another."""
    try:
        async with asyncio.TaskGroup() as group:
            for step in work:
                group.create_task(step)
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None


class Topology:
    """Declares one namespace's exchanges and queues for one retry policy."""

    def __init__(self, namespace: str, retry: RetryPolicy) -> None:
        self.namespace = namespace
        self.exchange_name = exchange_name(namespace)
        self._retry = retry

    async def declare_exchange(self, channel: AbstractChannel) -> AbstractExchange:
        return await channel.declare_exchange(self.exchange_name, ExchangeType.TOPIC, durable=True)

    async def declare_all(
        self, connection: AbstractConnection, specs: list[QueueSpec]
    ) -> list[str]:
        """Declare every queue in `specs` over a few channels at once; their names, in order.

        One after another these are a hundred or more round trips to the broker, most of a
        restarted service's time to ready; the broker serves channels in parallel.
        """
        names: list[str] = [""] * len(specs)
        pending = collections.deque(enumerate(specs))

        async def worker() -> None:
            # A channel of its own: a failed declaration closes the channel it ran on.
            channel = await connection.channel(publisher_confirms=False)
            try:
                while pending:
                    index, (consumer, event, key_suffix, plumbing) = pending.popleft()
                    names[index] = await self.declare_queue(
                        channel, consumer, event, key_suffix, plumbing=plumbing
                    )
            finally:
                with contextlib.suppress(Exception):
                    await channel.close()

        await all_at_once(worker() for _ in range(min(DECLARE_CHANNELS, len(specs))))
        return names

    async def declare_queue(
        self,
        channel: AbstractChannel,
        consumer: str,
        event: type[EventData],
        key_suffix: str,
        *,
        plumbing: bool,
    ) -> str:
        name = queue_name(self.namespace, consumer, event, key_suffix)
        queue = await channel.declare_queue(
            name, durable=True, arguments=_consumer_queue_arguments(name)
        )
        await queue.bind(self.exchange_name, routing_key_for(event, key_suffix))
        if plumbing:
            await channel.declare_queue(dlq_name(name), durable=True, arguments=_DLQ_ARGUMENTS)
        return name

    async def declare_retry(self, channel: AbstractChannel, delay_ms: int) -> AbstractExchange:
        name = retry_queue_name(self.namespace, delay_ms)
        exchange = await channel.declare_exchange(name, ExchangeType.FANOUT, durable=True)
        queue = await channel.declare_queue(
            name, durable=True, arguments=_retry_queue_arguments(delay_ms)
        )
        await queue.bind(exchange, routing_key="")
        return exchange

    def retry_delays_ms(self) -> list[int]:
        delays = {
            round(self._retry.delay_after(n) * 1000) for n in range(1, self._retry.max_attempts)
        }
        delays.discard(0)
        return sorted(delays)
