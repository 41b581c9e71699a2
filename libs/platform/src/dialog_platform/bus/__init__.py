"""The bus port. Two adapters: `AmqpBus` (RabbitMQ via aio-pika) and `InProcessBus`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_exports
from ..settings import CommonSettings
from .base import Bus, BusError, Handler, PublishError, RetryPolicy, UnroutableError
from .inprocess import DeadLetter, InProcessBus, Replays

if TYPE_CHECKING:
    from .amqp import AmqpBus

__all__ = [
    "AmqpBus",
    "Bus",
    "BusError",
    "DeadLetter",
    "Handler",
    "InProcessBus",
    "PublishError",
    "RetryPolicy",
    "UnroutableError",
    "create_bus",
]


# aio-pika takes half a second to import: a process on the in-process bus never loads it.
__getattr__ = lazy_exports(__name__, {"AmqpBus": ".amqp"})


def create_bus(
    settings: CommonSettings,
    *,
    dead_letter: DeadLetter | None = None,
    replays: Replays | None = None,
) -> Bus:
    """The RabbitMQ bus when `bus_url` is set, else the in-process one.

    `dead_letter` and `replays` only apply in-process (where dead letters are stored and a
    replay asked for by `dialog dlq replay` is picked up); over RabbitMQ dead letters stay in
    `<queue>.dlq` and a replay moves them back onto the consumer's queue.
    """
    retry = RetryPolicy(
        max_attempts=settings.bus_max_attempts, first_delay_s=settings.bus_retry_first_delay_s
    )
    if settings.bus_url is not None:
        from .amqp import AmqpBus

        return AmqpBus(
            settings.bus_url.get_secret_value(),
            namespace=settings.bus_namespace,
            prefetch=settings.bus_prefetch,
            retry=retry,
        )
    return InProcessBus(retry=retry, dead_letter=dead_letter, replays=replays)
