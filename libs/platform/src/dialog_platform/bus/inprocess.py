"""The in-process adapter of the bus port, for the single-process mode.

`publish()` delivers to the matching local subscribers itself and returns when each has handled
the message or given up on it. With nothing else in the process to consume an event, it is
"accepted" exactly when its handlers are done; the outbox that called `publish()` then marks it
sent. Routing follows the AMQP adapter's bindings: the routing key equals the event's key, or the
event's key plus `.<key suffix>` for a per-kiosk subscription.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from dialog_contracts import Envelope, EventData, queue_name

from .. import metrics, tracing
from ..faults import is_transient
from .base import (
    ANY_SUFFIX,
    Bus,
    OutageGate,
    PublishError,
    RetryPolicy,
    Subscription,
    attempt_delivery,
    binding_matches,
    check_key_suffix,
    count_published,
    sleep_unless,
)
from .deadletters import queue_for

log = logging.getLogger(__name__)

# (envelope, consumer, reason) of a message a handler gave up on after the last attempt.
DeadLetter = Callable[[Envelope, str, str], Awaitable[None]]
# Dead letters an operator asked to replay (`dialog dlq replay` runs in another process):
# (consumer, envelope) pairs, each claimed once.
Replays = Callable[[], Awaitable[list[tuple[str, Envelope]]]]
REPLAY_POLL_S = 1.0


async def log_dead_letter(envelope: Envelope, consumer: str, reason: str) -> None:
    log.error(
        "bus: %s gave up on %s %s: %s (dead letter, not persisted)",
        consumer,
        envelope.type,
        envelope.id,
        reason,
    )


class InProcessBus(Bus):
    def __init__(
        self,
        *,
        retry: RetryPolicy | None = None,
        dead_letter: DeadLetter | None = None,
        replays: Replays | None = None,
        close_grace_s: float = 10.0,
        namespace: str = "dialog",
    ) -> None:
        self._retry = retry or RetryPolicy()
        # Only names queues in metrics, the way the AMQP adapter and the stored DLQs name them.
        self._namespace = namespace
        self._dead_letter = dead_letter or log_dead_letter
        self._replays = replays
        self._close_grace_s = close_grace_s
        self._subscriptions: list[Subscription] = []
        self._started = False
        self._closed = False
        self._halt = asyncio.Event()
        self._gates: dict[int, OutageGate] = {}
        self._inflight: set[asyncio.Task[None]] = set()
        self._replayer: asyncio.Task[None] | None = None

    def _started_or_closed(self) -> bool:
        return self._started or self._closed

    def _subscribed(self, subscription: Subscription) -> None:
        if subscription.key_suffix != ANY_SUFFIX:
            queue = queue_name(
                self._namespace, subscription.consumer, subscription.event, subscription.key_suffix
            )
            metrics.bus_consumer_series(subscription.consumer, queue, subscription.event.TYPE)

    async def start(self) -> None:
        self._check_startable()
        self._started = True
        if self._replays is not None:
            self._replayer = asyncio.create_task(self._replay_loop(), name="bus-replays")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # Handlers waiting out an outage stop at once; their publish() raises and the outbox
        # keeps the event for the next start.
        self._halt.set()
        if self._replayer is not None:
            self._replayer.cancel()
            await asyncio.gather(self._replayer, return_exceptions=True)
        if not self._inflight:
            return
        _, pending = await asyncio.wait(set(self._inflight), timeout=self._close_grace_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def publish(self, envelope: Envelope, routing_key: str) -> None:
        """Deliver to every matching subscriber concurrently; return when all are done.

        A handler that keeps failing ends in the dead-letter callback and publish still returns:
        one poison message must not hold up the outbox. Only if the dead-letter callback itself
        fails does publish raise `PublishError`, so the outbox keeps the event and tries again.
        """
        labels = (metrics.service_of_source(envelope.source), envelope.type)
        if self._closed:
            metrics.BUS_PUBLISH_FAILURES.labels(*labels).inc()
            raise PublishError("the bus is closed")
        envelope = tracing.stamp(envelope)
        matching = [
            s for s in self._subscriptions if binding_matches(s.event, s.key_suffix, routing_key)
        ]
        if not matching:
            count_published(envelope)
            return
        # Each subscriber gets its own copy parsed from the wire form, as over AMQP: a handler
        # cannot see another's changes, and data that would not survive JSON fails here too.
        body = envelope.to_bytes()
        tasks = [asyncio.create_task(self._deliver(sub, body)) for sub in matching]
        for task in tasks:
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
        results = await asyncio.gather(*tasks, return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            metrics.BUS_PUBLISH_FAILURES.labels(*labels).inc()
        for failure in failures:
            if isinstance(failure, asyncio.CancelledError):
                raise PublishError(f"delivery of {envelope.id} was cancelled (bus closing)")
        if failures:
            raise PublishError(
                f"event {envelope.id}: recording a dead letter failed: {failures[0]!r}"
            ) from failures[0]
        count_published(envelope)

    async def _deliver(self, sub: Subscription, body: bytes) -> None:
        gate = self._gates.setdefault(id(sub), OutageGate())
        attempt = 0
        while True:
            attempt += 1
            envelope = Envelope.from_bytes(body)
            queue = queue_for(self._namespace, sub.consumer, envelope)
            outcome = await attempt_delivery(
                sub,
                envelope,
                attempt=attempt,
                retry=self._retry,
                gate=gate,
                halt=self._halt,
                queue=queue,
            )
            if outcome is True:
                return
            if outcome is False:
                raise asyncio.CancelledError  # closing: publish() reports it undelivered
            if outcome.final:
                await self._dead_letter(envelope, sub.consumer, outcome.reason)
                return
            if not await sleep_unless(self._halt, outcome.delay_s):
                raise asyncio.CancelledError

    async def redeliver(self, consumer: str, envelope: Envelope) -> int:
        """Hand `envelope` to `consumer`'s matching handlers again (a replayed dead letter)."""
        body = envelope.to_bytes()
        matching = [
            s
            for s in self._subscriptions
            if s.consumer == consumer and envelope.type == s.event.TYPE
        ]
        for sub in matching:
            await self._deliver(sub, body)
        return len(matching)

    async def _replay_loop(self) -> None:
        assert self._replays is not None
        while not self._halt.is_set():
            try:
                for consumer, envelope in await self._replays():
                    if not await self.redeliver(consumer, envelope):
                        log.error(
                            "bus: replay of %s %s: %s does not consume it here",
                            envelope.type,
                            envelope.id,
                            consumer,
                        )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not is_transient(exc):
                    log.exception("bus: replaying dead letters failed; trying again")
                else:  # the store is away for a moment; the next poll finds the requests
                    log.warning("bus: dead-letter store unavailable (%r); trying again", exc)
            await sleep_unless(self._halt, REPLAY_POLL_S)

    async def ensure_queue(self, consumer: str, event: type[EventData], key_suffix: str) -> None:
        # Nothing waits in a queue here: an event with no subscriber has no one to wait for.
        check_key_suffix(key_suffix)

    async def ping(self) -> bool:
        return not self._closed
