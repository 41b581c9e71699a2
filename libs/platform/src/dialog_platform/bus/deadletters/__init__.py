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

import time
from collections.abc import Awaitable, Callable, Collection
from typing import TYPE_CHECKING, Any

from ...settings import CommonSettings
from .amqp import AmqpDeadLetters
from .model import (
    MAX_WALK,
    DeadLetter,
    DeadLetters,
    DlqSummary,
    ReplayRefused,
    UnknownQueue,
    consumed_by,
    consumer_queue_of,
    dlq_of,
    format_age,
    known_dlqs,
    queue_for,
)
from .stored import StoredDeadLetters

if TYPE_CHECKING:
    from pymongo import AsyncMongoClient

__all__ = [
    "DLQ_COUNT_CACHE_S",
    "MAX_WALK",
    "AmqpDeadLetters",
    "DeadLetter",
    "DeadLetters",
    "DlqSummary",
    "ReplayRefused",
    "StoredDeadLetters",
    "UnknownQueue",
    "consumed_by",
    "consumer_queue_of",
    "dlq_gauge",
    "dlq_of",
    "format_age",
    "known_dlqs",
    "open_dead_letters",
    "queue_for",
]


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
    from ...metrics import BUS_QUEUE_MESSAGES, DLQ_MESSAGES

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
