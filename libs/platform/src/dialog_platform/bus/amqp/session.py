"""A bus session (one connection with everything opened on it) and confirmed publishing."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import aio_pika
import aiormq
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange, AbstractQueue

from ...locks import KeyedLocks
from ..base import OutageGate, PublishError, UnroutableError


@dataclass(eq=False)
class Session:
    """One connection with everything opened on it; discarded as a whole when any part closes."""

    connection: AbstractConnection
    channel: AbstractChannel  # publisher confirms: events, retry and dead-letter copies
    exchange: AbstractExchange
    retry_exchanges: dict[int, AbstractExchange] = field(default_factory=dict)
    consumers: list[tuple[AbstractQueue, str]] = field(default_factory=list)
    lost: asyncio.Event = field(default_factory=asyncio.Event)
    # Set when the session is lost or the bus closes: handlers waiting out an outage give up
    # their delivery, which the broker then hands out again.
    halt: asyncio.Event = field(default_factory=asyncio.Event)
    gates: dict[str, OutageGate] = field(default_factory=dict)

    @property
    def alive(self) -> bool:
        return not (self.lost.is_set() or self.connection.is_closed or self.channel.is_closed)

    def discard(self) -> None:
        """Mark the session lost: the supervisor builds a new one."""
        self.lost.set()
        self.halt.set()


class ConfirmedPublisher:
    """Publishes with `mandatory` and waits for the broker's confirm, one message id at a time."""

    def __init__(self) -> None:
        # aiormq matches a returned (unroutable) message to its publish by message id; two
        # unconfirmed publishes with one id (an outbox re-send, or two consumers retrying the
        # same event) could get each other's outcome.
        self._message_locks = KeyedLocks()

    async def publish(
        self, exchange: AbstractExchange, routing_key: str, message: aio_pika.Message
    ) -> None:
        async with self._message_locks.hold(message.message_id or ""):
            try:
                await exchange.publish(message, routing_key, mandatory=True)
            except aiormq.exceptions.PublishError as exc:  # Basic.Return
                raise UnroutableError(
                    f"no queue is bound to {routing_key!r} on exchange {exchange.name!r}"
                ) from exc
            except aiormq.exceptions.DeliveryError as exc:  # Basic.Nack
                raise PublishError(
                    f"the broker refused message {message.message_id} ({routing_key!r})"
                ) from exc
            except Exception as exc:
                raise PublishError(
                    f"publishing message {message.message_id} ({routing_key!r}) failed: {exc!r}"
                ) from exc
