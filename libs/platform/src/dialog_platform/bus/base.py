"""The bus port. Two adapters: `AmqpBus` (RabbitMQ via aio-pika) and `InProcessBus`."""

from __future__ import annotations

import abc
import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from dialog_contracts import Envelope, EventData

from .. import metrics, tracing
from ..faults import Transient, is_transient
from .wire import REASON_MAX_CHARS, dlq_name

log = logging.getLogger(__name__)

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
    """How a failed handler is tried again.

    A failure on the message's own content: bounded retries with exponential backoff, then the
    dead-letter queue. A passing outage (`faults.is_transient`): retried in place with capped
    backoff for as long as it takes, never counted against the message.
    """

    max_attempts: int = 5
    first_delay_s: float = 1.0
    multiplier: float = 4.0
    delays_s: tuple[float, ...] = field(default=())
    transient_first_delay_s: float = 0.5
    transient_max_delay_s: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.first_delay_s < 0 or self.multiplier < 1:
            raise ValueError("first_delay_s must be >= 0 and multiplier >= 1")
        if any(d < 0 for d in self.delays_s):
            raise ValueError("delays_s must not be negative")
        if not 0 < self.transient_first_delay_s <= self.transient_max_delay_s:
            raise ValueError("need 0 < transient_first_delay_s <= transient_max_delay_s")

    def transient_delay(self, tries: int) -> float:
        """Wait after the `tries`-th failed try of an outage (1-based): doubling, capped."""
        exponent = min(max(tries, 1) - 1, 32)
        return min(self.transient_first_delay_s * 2.0**exponent, self.transient_max_delay_s)

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


class OutageGate:
    """One consumer's view of a dependency outage.

    The first delivery that meets a passing outage closes the gate and probes with backoff;
    the consumer's other deliveries wait at the gate instead of hammering the dependency or
    cycling through retry queues, and each takes its turn once a probe has succeeded. With a
    bounded prefetch the consumer then holds a few messages and the broker keeps the rest.
    """

    def __init__(self) -> None:
        self._open = asyncio.Event()
        self._open.set()
        self.since: float | None = None

    @property
    def is_open(self) -> bool:
        return self._open.is_set()

    def close(self) -> bool:
        """Close the gate; True when this call closed it (the caller is then the prober)."""
        if not self._open.is_set():
            return False
        self._open.clear()
        self.since = time.monotonic()
        return True

    def open(self) -> None:
        self._open.set()
        self.since = None

    async def wait_open(self, stop: asyncio.Event) -> bool:
        """Wait until the gate opens (True) or `stop` is set (False)."""
        if self._open.is_set():
            return True
        opened = asyncio.ensure_future(self._open.wait())
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({opened, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            opened.cancel()
            stopped.cancel()
        return self._open.is_set() and not stop.is_set()


async def sleep_unless(stop: asyncio.Event, delay: float) -> bool:
    """Sleep `delay` seconds; False at once when `stop` is set meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=delay)
    except TimeoutError:
        return True
    return False


async def run_through_outages(
    handler: Handler,
    envelope: Envelope,
    *,
    gate: OutageGate,
    halt: asyncio.Event,
    retry: RetryPolicy,
    consumer: str,
    queue: str = "",
) -> bool:
    """Run `handler` until it succeeds, waiting out passing outages.

    True once the handler has returned; False when `halt` is set first (the bus is closing or
    the delivery's connection is gone, so the broker hands the message out again). A failure
    on the message's content is raised for the caller's bounded retries.
    """
    tries = 0
    prober = False
    labels = (consumer, queue or consumer, envelope.type)
    while True:
        if not prober and not await gate.wait_open(halt):
            return False
        started = time.perf_counter()
        try:
            with tracing.consuming(envelope, consumer):
                await handler(envelope)
        except Exception as exc:
            metrics.BUS_HANDLER_DURATION.labels(*labels).observe(time.perf_counter() - started)
            if not is_transient(exc):
                if prober:
                    gate.open()  # the dependency answered; the fault is this message's own
                raise
            tries += 1
            if not prober:
                prober = gate.close()
                if not prober:
                    continue  # another delivery is probing; wait at the gate
            metrics.BUS_RETRIED.labels(*labels, "transient").inc()
            delay = retry.transient_delay(tries)
            log.warning(
                "bus: %s waits out an outage on %s %s (try %d: %s: %s); next try in %.1f s",
                consumer,
                envelope.type,
                envelope.id,
                tries,
                type(exc).__name__,
                str(exc)[:300],
                delay,
            )
            if not await sleep_unless(halt, delay):
                gate.open()
                return False
            continue
        metrics.BUS_HANDLER_DURATION.labels(*labels).observe(time.perf_counter() - started)
        metrics.BUS_HANDLED.labels(*labels).inc()
        if prober:
            waited = time.monotonic() - (gate.since or time.monotonic())
            gate.open()
            log.warning("bus: %s: outage over after %.1f s; consuming again", consumer, waited)
        return True


def failure_reason(exc: BaseException) -> str:
    """A handler's failure as kept with its dead letter: type and message, cut to length."""
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= REASON_MAX_CHARS else text[: REASON_MAX_CHARS - 1] + "…"


@dataclass(frozen=True)
class Failed:
    """An attempt whose handler raised: to be tried again after `delay_s`, or dead-lettered
    when it was the last (`final`)."""

    reason: str
    final: bool
    delay_s: float


@dataclass(frozen=True)
class Subscription:
    consumer: str
    event: type[EventData]
    handler: Handler
    # For per-kiosk events: the suffix after the event's routing key (the kiosk id).
    key_suffix: str = ""


async def attempt_delivery(
    sub: Subscription,
    envelope: Envelope,
    *,
    attempt: int,
    retry: RetryPolicy,
    gate: OutageGate,
    halt: asyncio.Event,
    queue: str,
) -> bool | Failed:
    """Attempt number `attempt` at handling `envelope`, counted and logged alike in every
    adapter; the adapter carries out the outcome.

    True once handled; False when `halt` was set first (the message was not handled);
    else how it failed.
    """
    labels = (sub.consumer, queue, envelope.type)
    metrics.BUS_CONSUMED.labels(*labels).inc()
    try:
        return await run_through_outages(
            sub.handler,
            envelope,
            gate=gate,
            halt=halt,
            retry=retry,
            consumer=sub.consumer,
            queue=queue,
        )
    except Exception as exc:
        reason = failure_reason(exc)
        if attempt >= retry.max_attempts:
            metrics.BUS_DEAD_LETTERED.labels(*labels).inc()
            log.error(
                "bus: %s gave up on %s %s after %d attempts; dead-lettered to %s",
                sub.consumer,
                envelope.type,
                envelope.id,
                attempt,
                dlq_name(queue),
                exc_info=exc,
            )
            return Failed(reason, final=True, delay_s=0.0)
        delay = retry.delay_after(attempt)
        metrics.BUS_RETRIED.labels(*labels, "failed").inc()
        log.warning(
            "bus: %s failed on %s %s (attempt %d of %d: %s); retrying in %.1f s",
            sub.consumer,
            envelope.type,
            envelope.id,
            attempt,
            retry.max_attempts,
            reason,
            delay,
        )
        return Failed(reason, final=False, delay_s=delay)


def count_published(envelope: Envelope) -> None:
    """Count a publish the bus has seen through (confirmed, or delivered in-process)."""
    labels = (metrics.service_of_source(envelope.source), envelope.type)
    metrics.BUS_PUBLISH_CONFIRMS.labels(*labels).inc()
    metrics.BUS_PUBLISH_FAILURES.labels(*labels)  # a series at 0 beside the confirms


class Bus(abc.ABC):
    """Publish CloudEvents envelopes and deliver them to subscribed handlers.

    A handler that returns has committed its effect; the message is then acknowledged. A handler
    that raises a passing outage is retried until the outage passes; one that raises anything
    else is retried per the `RetryPolicy`, then the message goes to the dead-letter queue.
    Handlers must be idempotent: every message may be delivered more than once.
    """

    _subscriptions: list[Subscription]

    def subscribe(
        self,
        consumer: str,
        event: type[EventData],
        handler: Handler,
        *,
        key_suffix: str = "",
    ) -> None:
        """Register a handler; before `start()` only, in every adapter alike, so that each
        queue is consumed from the moment the bus starts."""
        if self._started_or_closed():
            raise BusError("subscribe() must be called before start()")
        check_key_suffix(key_suffix)
        subscription = Subscription(consumer, event, handler, key_suffix)
        self._subscriptions.append(subscription)
        self._subscribed(subscription)

    @abc.abstractmethod
    def _started_or_closed(self) -> bool: ...

    def _check_startable(self) -> None:
        if self._started_or_closed():
            raise BusError("the bus was already started or closed")

    def _subscribed(self, subscription: Subscription) -> None:
        """An adapter's own bookkeeping of a new subscription (none by default)."""
        return None

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
