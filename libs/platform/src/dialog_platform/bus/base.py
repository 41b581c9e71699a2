"""The bus port. Two adapters: `AmqpBus` (RabbitMQ via aio-pika) and `InProcessBus`."""

from __future__ import annotations

import abc
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from dialog_contracts import Envelope, EventData

from ..faults import Transient

Handler = Callable[[Envelope], Awaitable[None]]

# A kiosk id becomes the last part of a topic routing key: no dots, no wildcards.
_KEY_SUFFIX = re.compile(r"^[A-Za-z0-9_-]+$")


# Subscribes to every kiosk's events. Only the single process uses it (one printer-agent for
# the booths of one small site); on a shared broker each agent names its own kiosk.
ANY_SUFFIX = "*"


def check_key_suffix(key_suffix: str) -> None:
    if key_suffix and key_suffix != ANY_SUFFIX and not _KEY_SUFFIX.fullmatch(key_suffix):
        raise ValueError(f"key suffix {key_suffix!r}: only letters, digits, '-' and '_'")


def routing_key_for(event: type[EventData], key_suffix: str = "") -> str:
    """The routing key a subscription binds: the event's, plus `.<suffix>` for per-kiosk ones."""
    return f"{event.ROUTING_KEY}.{key_suffix}" if key_suffix else event.ROUTING_KEY


def binding_matches(event: type[EventData], key_suffix: str, routing_key: str) -> bool:
    if key_suffix == ANY_SUFFIX:
        return routing_key.startswith(f"{event.ROUTING_KEY}.")
    return routing_key_for(event, key_suffix) == routing_key


class BusError(Exception):
    """Base of the bus errors; the underlying library's errors are translated into these."""


class PublishError(BusError, Transient):
    """The broker did not confirm the message (nack, timeout, or connection lost).

    Transient: a handler that publishes while the broker is away is retried, not dead-lettered.
    """


class UnroutableError(PublishError):
    """The message reached no queue; it was returned by the broker."""


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff before a message is dead-lettered."""

    max_attempts: int = 5
    first_delay_s: float = 1.0
    multiplier: float = 4.0
    delays_s: tuple[float, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.first_delay_s < 0 or self.multiplier < 1:
            raise ValueError("first_delay_s must be >= 0 and multiplier >= 1")
        if any(d < 0 for d in self.delays_s):
            raise ValueError("delays_s must not be negative")

    def delays(self) -> tuple[float, ...]:
        """Delay before attempt 2, 3, … max_attempts."""
        if self.delays_s:
            return self.delays_s
        return tuple(
            self.first_delay_s * self.multiplier**i for i in range(max(self.max_attempts - 1, 0))
        )

    def delay_after(self, attempt: int) -> float:
        """Backoff after failed attempt number `attempt` (1-based), before the next one.

        An explicit `delays_s` shorter than `max_attempts - 1` repeats its last delay.
        """
        delays = self.delays()
        if not delays:
            return 0.0
        return delays[min(max(attempt, 1), len(delays)) - 1]


@dataclass(frozen=True)
class Subscription:
    consumer: str
    event: type[EventData]
    handler: Handler
    # For per-kiosk events: the suffix after the event's routing key (the kiosk id).
    key_suffix: str = ""


class Bus(abc.ABC):
    """Publish CloudEvents envelopes and deliver them to subscribed handlers.

    A handler that returns has committed its effect; the message is then acknowledged. A handler
    that raises is retried per the `RetryPolicy`, then the message goes to the dead-letter queue.
    Handlers must be idempotent: every message may be delivered more than once.
    """

    @abc.abstractmethod
    def subscribe(
        self,
        consumer: str,
        event: type[EventData],
        handler: Handler,
        *,
        key_suffix: str = "",
    ) -> None:
        """Register a handler; call before `start()`."""

    @abc.abstractmethod
    async def start(self) -> None:
        """Connect, declare the topology and start consuming."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def publish(self, envelope: Envelope, routing_key: str) -> None:
        """Return once the message is safely accepted (broker confirm / every local handler done).

        Raises `PublishError` (or `UnroutableError`) otherwise.
        """

    @abc.abstractmethod
    async def ensure_queue(self, consumer: str, event: type[EventData], key_suffix: str) -> None:
        """Declare a consumer queue ahead of its consumer (e.g. a new kiosk's receipt queue)."""

    @abc.abstractmethod
    async def ping(self) -> bool:
        """True when the bus can publish now (used by /readyz)."""
