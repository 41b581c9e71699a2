"""The RabbitMQ adapter of the bus port (aio-pika).

Topology, all durable, names from `dialog_contracts.topology`:

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

Reconnection is our own loop over plain connections rather than `connect_robust`, which has a
history of channels and consumers left unrestored after a broker restart or a lost (rather than
closed) connection (aio-pika issues #231, #626) and never restores a consumer the broker
cancelled (#334). A session is one connection with its channels and consumers; when anything in
it closes, the supervisor throws the whole session away and builds a new one: reconnect with
backoff, re-declare, re-consume.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Coroutine, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

import aio_pika
import aiormq
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    DeliveryMode,
    ExchangeType,
)

from dialog_contracts import BINDINGS, Envelope, EventData, exchange_name, queue_name

from .. import metrics, tracing
from .base import (
    Bus,
    BusError,
    OutageGate,
    PublishError,
    RetryPolicy,
    Subscription,
    UnroutableError,
    check_key_suffix,
    routing_key_for,
    run_through_outages,
)

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/cloudevents+json"
# The `event` label of a message that is no CloudEvents envelope at all.
INVALID = "invalid"

# Headers on retry and dead-letter copies. Attempts counts handler failures; a redelivery after a
# lost connection is not a failure of the handler and does not count (see DELIVERY_LIMIT).
HEADER_ATTEMPTS = "x-dialog-attempts"
HEADER_REASON = "x-dialog-reason"
HEADER_CONSUMER = "x-dialog-consumer"
HEADER_QUEUE = "x-dialog-queue"
HEADER_FAILED_AT = "x-dialog-failed-at"

# The broker itself dead-letters a message delivered this many times without ack or reject: a
# message that kills its consumer process outright never reaches the retry logic here. It is a
# queue argument, so changing it makes re-declaring existing queues fail (PRECONDITION_FAILED).
DELIVERY_LIMIT = 20
# Channels a session declares its queues over at once (a few are enough to overlap the round
# trips; each is closed once the declarations are done).
DECLARE_CHANNELS = 8

_REASON_MAX_CHARS = 1000
# Dead-lettering history the broker adds; a copy we publish starts a fresh history.
_BROKER_HEADER_PREFIXES = ("x-death", "x-first-death-", "x-last-death-", "x-delivery-count")


def dlq_name(queue: str) -> str:
    return f"{queue}.dlq"


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


def _attempts(headers: dict[str, Any] | None) -> int:
    value = (headers or {}).get(HEADER_ATTEMPTS)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return 0


def _reason(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= _REASON_MAX_CHARS else text[: _REASON_MAX_CHARS - 1] + "…"


def _copy(message: AbstractIncomingMessage, extra_headers: dict[str, Any]) -> aio_pika.Message:
    headers = {
        k: v
        for k, v in (message.headers or {}).items()
        if not k.startswith(_BROKER_HEADER_PREFIXES)
    }
    headers.update(extra_headers)
    return aio_pika.Message(
        body=message.body,
        headers=headers,
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        delivery_mode=DeliveryMode.PERSISTENT,
        message_id=message.message_id,
        type=message.type,
        timestamp=message.timestamp,
        correlation_id=message.correlation_id,
        app_id=message.app_id,
    )


async def _all(work: Iterable[Coroutine[Any, Any, None]]) -> None:
    """Run `work` at once; on the first failure cancel the rest and raise that failure itself
    (not an ExceptionGroup), so that callers tell a lost connection from a refused declaration
    as they did when the steps ran one after another."""
    try:
        async with asyncio.TaskGroup() as group:
            for step in work:
                group.create_task(step)
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None


@dataclass(eq=False)
class _Session:
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


@dataclass
class _KeyedLock:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class AmqpBus(Bus):
    """The bus over RabbitMQ. See the module docstring for the topology and reconnection."""

    def __init__(
        self,
        url: str,
        *,
        namespace: str = "dialog",
        prefetch: int = 16,
        retry: RetryPolicy | None = None,
        publish_timeout_s: float = 30.0,
        start_timeout_s: float = 30.0,
        connect_timeout_s: float = 10.0,
        reconnect_delay_s: float = 0.5,
        reconnect_max_delay_s: float = 10.0,
        close_grace_s: float = 10.0,
        connection_name: str | None = None,
    ) -> None:
        if prefetch < 1:
            raise ValueError("prefetch must be at least 1")
        self._url = url
        self._namespace = namespace
        self._exchange_name = exchange_name(namespace)
        self._prefetch = prefetch
        self._retry = retry or RetryPolicy()
        self._publish_timeout_s = publish_timeout_s
        self._start_timeout_s = start_timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._reconnect_delay_s = reconnect_delay_s
        self._reconnect_max_delay_s = reconnect_max_delay_s
        self._close_grace_s = close_grace_s
        self.connection_name = connection_name or (
            f"dialog {namespace} {socket.gethostname()} pid {os.getpid()}"
        )
        self._subscriptions: list[Subscription] = []
        # Insertion-ordered set of (consumer, event, key suffix), re-declared on every reconnect.
        self._ensured: dict[tuple[str, type[EventData], str], None] = {}
        self._session: _Session | None = None
        self._state = asyncio.Condition()
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = False
        self._inflight: set[asyncio.Task[None]] = set()
        self._message_locks: dict[str, _KeyedLock] = {}

    # -- the port ------------------------------------------------------------------------------

    def _started_or_closed(self) -> bool:
        return self._supervisor is not None or self._closing

    async def start(self) -> None:
        if self._supervisor is not None or self._closing:
            raise BusError("the bus was already started or closed")
        first: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        supervisor = asyncio.create_task(self._supervise(first), name="bus-supervisor")
        self._supervisor = supervisor
        try:
            await first
        except BaseException:
            if self._supervisor is supervisor:
                self._supervisor = None
            supervisor.cancel()
            await asyncio.gather(supervisor, return_exceptions=True)
            raise

    async def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        async with self._state:
            self._state.notify_all()
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            supervisor.cancel()
            await asyncio.gather(supervisor, return_exceptions=True)
        session, self._session = self._session, None
        if session is not None:
            session.halt.set()
        if session is not None and session.alive:
            # Stop new deliveries first, so that what is in flight can finish and be acked.
            for queue, tag in session.consumers:
                with contextlib.suppress(Exception):
                    await queue.cancel(tag, timeout=5)
        await self._drain_inflight()
        if session is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(session.connection.close(), timeout=5)

    async def publish(self, envelope: Envelope, routing_key: str) -> None:
        envelope = tracing.stamp(envelope)
        message = aio_pika.Message(
            body=envelope.to_bytes(),
            content_type=CONTENT_TYPE,
            delivery_mode=DeliveryMode.PERSISTENT,
            message_id=envelope.id,
            type=envelope.type,
            timestamp=envelope.time,
        )
        labels = (metrics.service_of_source(envelope.source), envelope.type)
        try:
            async with asyncio.timeout(self._publish_timeout_s):
                session = await self._wait_session()
                await self._confirmed_publish(session.exchange, routing_key, message)
        except TimeoutError as exc:
            metrics.BUS_PUBLISH_FAILURES.labels(*labels).inc()
            raise PublishError(
                f"event {envelope.id} ({routing_key!r}) not confirmed by the broker "
                f"within {self._publish_timeout_s:g} s"
            ) from exc
        except PublishError:
            metrics.BUS_PUBLISH_FAILURES.labels(*labels).inc()
            raise
        metrics.BUS_PUBLISH_CONFIRMS.labels(*labels).inc()
        metrics.BUS_PUBLISH_FAILURES.labels(*labels)  # a series at 0 beside the confirms

    async def ensure_queue(self, consumer: str, event: type[EventData], key_suffix: str) -> None:
        """Declare the queue with its retry and dead-letter queues, now if started, else at start.

        The queue is remembered and declared again after every reconnect.
        """
        check_key_suffix(key_suffix)
        self._ensured[(consumer, event, key_suffix)] = None
        if self._supervisor is None:
            return
        try:
            async with asyncio.timeout(self._publish_timeout_s):
                session = await self._wait_session()
                # A channel of its own: a failed declaration closes the channel it ran on.
                channel = await session.connection.channel(publisher_confirms=False)
                try:
                    await self._declare_queue(channel, consumer, event, key_suffix, plumbing=True)
                finally:
                    with contextlib.suppress(Exception):
                        await channel.close()
        except BusError:
            raise
        except Exception as exc:
            name = queue_name(self._namespace, consumer, event, key_suffix)
            raise BusError(f"declaring queue {name!r} failed: {exc!r}") from exc

    async def ping(self) -> bool:
        session = self._session
        return session is not None and session.alive and not self._closing

    # -- sessions ------------------------------------------------------------------------------

    async def _supervise(self, first: asyncio.Future[None]) -> None:
        try:
            await self._reconnect_forever(first)
        finally:
            # close() during start(): start() must not wait forever for a session.
            if not first.done():
                first.set_exception(BusError("the bus was closed while starting"))

    async def _reconnect_forever(self, first: asyncio.Future[None]) -> None:
        loop = asyncio.get_running_loop()
        started_at = loop.time()
        delay = self._reconnect_delay_s
        while True:
            try:
                session = await self._open_session()
            except Exception as exc:
                if not first.done():
                    permanent = isinstance(
                        exc,
                        aiormq.exceptions.AMQPChannelError | aiormq.exceptions.AuthenticationError,
                    )
                    if permanent or loop.time() - started_at >= self._start_timeout_s:
                        first.set_exception(BusError(f"cannot set up the bus: {exc!r}"))
                        return
                log.warning(
                    "bus: connecting to the broker failed (%r); retrying in %.1f s", exc, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._reconnect_max_delay_s)
                continue
            async with self._state:
                self._session = session
                self._state.notify_all()
            if first.done():
                log.warning("bus: reconnected to the broker; consumers restored")
            else:
                first.set_result(None)
            opened_at = loop.time()
            await session.lost.wait()
            log.warning("bus: the broker connection or one of its channels closed; reconnecting")
            self._session = None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(session.connection.close(), timeout=5)
            if loop.time() - opened_at < self._reconnect_max_delay_s:
                # A session that dies right after it was built (a broker that accepts and then
                # drops us) must not turn into a tight reconnect loop.
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._reconnect_max_delay_s)
            else:
                delay = self._reconnect_delay_s

    async def _open_session(self) -> _Session:
        connection = await aio_pika.connect(
            self._url,
            timeout=self._connect_timeout_s,
            client_properties={"connection_name": self.connection_name},
        )
        try:
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            exchange = await channel.declare_exchange(
                self._exchange_name, ExchangeType.TOPIC, durable=True
            )
            session = _Session(connection=connection, channel=channel, exchange=exchange)
            for delay_ms in self._retry_delays_ms():
                session.retry_exchanges[delay_ms] = await self._declare_retry(channel, delay_ms)
            connection.close_callbacks.add(partial(self._on_closed, session))
            channel.close_callbacks.add(partial(self._on_closed, session))
            # The consumer queues of the whole system, so that an event published before its
            # consumer ever ran waits for it. Their retry and dead-letter queues are declared by
            # the processes that consume them.
            specs = [(b.consumer, b.event, "", False) for b in BINDINGS]
            specs += [(c, e, s, True) for c, e, s in list(self._ensured)]
            specs += [(s.consumer, s.event, s.key_suffix, True) for s in self._subscriptions]
            names = await self._declare_all(connection, specs)
            own = names[len(names) - len(self._subscriptions) :]
            await _all(
                self._consume(session, sub, name)
                for sub, name in zip(self._subscriptions, own, strict=True)
            )
            return session
        except BaseException:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), timeout=5)
            raise

    async def _declare_all(
        self,
        connection: AbstractConnection,
        specs: list[tuple[str, type[EventData], str, bool]],
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
                    names[index] = await self._declare_queue(
                        channel, consumer, event, key_suffix, plumbing=plumbing
                    )
            finally:
                with contextlib.suppress(Exception):
                    await channel.close()

        await _all(worker() for _ in range(min(DECLARE_CHANNELS, len(specs))))
        return names

    async def _declare_queue(
        self,
        channel: AbstractChannel,
        consumer: str,
        event: type[EventData],
        key_suffix: str,
        *,
        plumbing: bool,
    ) -> str:
        name = queue_name(self._namespace, consumer, event, key_suffix)
        queue = await channel.declare_queue(
            name, durable=True, arguments=_consumer_queue_arguments(name)
        )
        await queue.bind(self._exchange_name, routing_key_for(event, key_suffix))
        if plumbing:
            await channel.declare_queue(dlq_name(name), durable=True, arguments=_DLQ_ARGUMENTS)
        return name

    async def _declare_retry(self, channel: AbstractChannel, delay_ms: int) -> AbstractExchange:
        name = retry_queue_name(self._namespace, delay_ms)
        exchange = await channel.declare_exchange(name, ExchangeType.FANOUT, durable=True)
        queue = await channel.declare_queue(
            name, durable=True, arguments=_retry_queue_arguments(delay_ms)
        )
        await queue.bind(exchange, routing_key="")
        return exchange

    def _retry_delays_ms(self) -> list[int]:
        delays = {
            round(self._retry.delay_after(n) * 1000) for n in range(1, self._retry.max_attempts)
        }
        delays.discard(0)
        return sorted(delays)

    async def _consume(self, session: _Session, sub: Subscription, name: str) -> None:
        # A channel per consumer: prefetch applies per consumer, and a channel error (say a
        # stale delivery tag) stays with one consumer until the session is rebuilt.
        channel = await session.connection.channel(publisher_confirms=False)
        channel.close_callbacks.add(partial(self._on_closed, session))
        await channel.set_qos(prefetch_count=self._prefetch)
        underlay = await channel.get_underlay_channel()
        # The broker cancels a consumer whose queue was deleted; rebuilding the session
        # re-declares the queue and consumes again.
        underlay.on_consumer_cancel_callbacks.add(partial(self._on_consumer_cancelled, session))
        queue = await channel.get_queue(name, ensure=False)
        metrics.bus_consumer_series(sub.consumer, name, sub.event.TYPE)
        tag = await queue.consume(partial(self._on_delivery, session, sub, name))
        session.consumers.append((queue, tag))

    def _on_closed(self, session: _Session, *_: object) -> None:
        session.lost.set()
        session.halt.set()

    def _on_consumer_cancelled(self, session: _Session, frame: object) -> None:
        if not self._closing:
            log.warning("bus: the broker cancelled a consumer (%r); rebuilding the session", frame)
        session.lost.set()
        session.halt.set()

    def _usable(self) -> bool:
        return (
            self._closing
            or self._supervisor is None
            or (self._session is not None and self._session.alive)
        )

    async def _wait_session(self) -> _Session:
        async with self._state:
            await self._state.wait_for(self._usable)
            session = self._session
            if self._closing or self._supervisor is None or session is None:
                raise PublishError("the bus is not started or already closed")
            return session

    @contextlib.asynccontextmanager
    async def _exclusive(self, message_id: str) -> AsyncIterator[None]:
        # aiormq matches a returned (unroutable) message to its publish by message id; two
        # unconfirmed publishes with one id (an outbox re-send, or two consumers retrying the
        # same event) could get each other's outcome.
        entry = self._message_locks.setdefault(message_id, _KeyedLock())
        entry.users += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._message_locks[message_id]

    async def _confirmed_publish(
        self, exchange: AbstractExchange, routing_key: str, message: aio_pika.Message
    ) -> None:
        async with self._exclusive(message.message_id or ""):
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

    # -- consuming -----------------------------------------------------------------------------

    async def _on_delivery(
        self, session: _Session, sub: Subscription, queue: str, message: AbstractIncomingMessage
    ) -> None:
        # A task of our own rather than aio-pika's, which is cancelled with the channel: a
        # handler interrupted halfway through its commit is worse than one whose ack is lost
        # (the broker then redelivers, and handlers are idempotent).
        task = asyncio.create_task(self._handle(session, sub, queue, message))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _handle(
        self, session: _Session, sub: Subscription, queue: str, message: AbstractIncomingMessage
    ) -> None:
        failed_before = _attempts(message.headers)
        try:
            envelope = Envelope.from_bytes(message.body)
        except ValueError as exc:  # pydantic's ValidationError included
            metrics.BUS_CONSUMED.labels(sub.consumer, queue, INVALID).inc()
            metrics.BUS_DEAD_LETTERED.labels(sub.consumer, queue, INVALID).inc()
            log.error(
                "bus: %s: message %s is not a CloudEvents envelope; dead-lettered",
                queue,
                message.message_id,
            )
            await self._move(
                session,
                message,
                queue,
                dlq_name(queue),
                self._failure_headers(sub, queue, failed_before, f"invalid envelope: {exc}"),
            )
            return

        attempt = failed_before + 1
        gate = session.gates.setdefault(queue, OutageGate())
        labels = (sub.consumer, queue, envelope.type)
        metrics.BUS_CONSUMED.labels(*labels).inc()
        try:
            handled = await run_through_outages(
                sub.handler,
                envelope,
                gate=gate,
                halt=session.halt,
                retry=self._retry,
                consumer=sub.consumer,
                queue=queue,
            )
        except Exception as exc:
            reason = _reason(exc)
            if attempt >= self._retry.max_attempts:
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
                await self._move(
                    session,
                    message,
                    queue,
                    dlq_name(queue),
                    self._failure_headers(sub, queue, attempt, reason),
                )
                return
            delay_ms = round(self._retry.delay_after(attempt) * 1000)
            metrics.BUS_RETRIED.labels(*labels, "failed").inc()
            log.warning(
                "bus: %s failed on %s %s (attempt %d of %d: %s); retrying in %.1f s",
                sub.consumer,
                envelope.type,
                envelope.id,
                attempt,
                self._retry.max_attempts,
                reason,
                delay_ms / 1000,
            )
            headers = {HEADER_ATTEMPTS: attempt, HEADER_REASON: reason}
            if not delay_ms:
                await self._move(session, message, queue, queue, headers)
                return
            await self._move(
                session,
                message,
                queue,
                retry_queue_name(self._namespace, delay_ms),
                headers,
                via=session.retry_exchanges[delay_ms],
            )
            return
        if handled:
            await self._ack(message, queue)

    @staticmethod
    def _failure_headers(
        sub: Subscription, queue: str, attempts: int, reason: str
    ) -> dict[str, Any]:
        return {
            HEADER_ATTEMPTS: attempts,
            HEADER_REASON: reason[:_REASON_MAX_CHARS],
            HEADER_CONSUMER: sub.consumer,
            HEADER_QUEUE: queue,
            HEADER_FAILED_AT: datetime.now(UTC).isoformat(),
        }

    async def _move(
        self,
        session: _Session,
        message: AbstractIncomingMessage,
        queue: str,
        target: str,
        headers: dict[str, Any],
        *,
        via: AbstractExchange | None = None,
    ) -> None:
        """Put a copy into `target` (confirmed), then ack the original.

        In that order, so a crash in between leaves a duplicate rather than nothing. `via` is a
        retry exchange: the copy is published there keyed by `queue`, which it returns to.
        """
        if not session.alive:
            # The delivery died with its channel; the broker hands the original out again.
            return
        try:
            async with asyncio.timeout(self._publish_timeout_s):
                if via is None:
                    exchange, key = session.channel.default_exchange, target
                else:
                    exchange, key = via, queue
                await self._confirmed_publish(exchange, key, _copy(message, headers))
        except (PublishError, TimeoutError) as exc:
            if not session.alive:
                return
            if isinstance(exc, UnroutableError):
                # The retry or dead-letter queue is gone (deleted by hand?). Rebuilding the session
                # declares it again, and the original, never acked, is delivered again.
                log.error("bus: %s is missing; rebuilding the session", target)
                session.lost.set()
                session.halt.set()
                return
            log.error(
                "bus: %s: could not move message %s to %s (%r); returning it to the queue",
                queue,
                message.message_id,
                target,
                exc,
            )
            # Not at once, so a broker refusing the copy does not make a hot loop; each return
            # counts towards the queue's delivery limit, which bounds the loop.
            await asyncio.sleep(min(self._retry.delay_after(1), 5.0))
            with contextlib.suppress(Exception):
                await message.nack(requeue=True)
            return
        await self._ack(message, queue)

    async def _ack(self, message: AbstractIncomingMessage, queue: str) -> None:
        try:
            await message.ack()
        except Exception as exc:
            log.warning(
                "bus: %s: ack of message %s failed (%r); it will be delivered again",
                queue,
                message.message_id,
                exc,
            )

    async def _drain_inflight(self) -> None:
        if not self._inflight:
            return
        _, pending = await asyncio.wait(set(self._inflight), timeout=self._close_grace_s)
        for task in pending:
            task.cancel()
        if pending:
            log.warning(
                "bus: closing with %d handlers unfinished; they will be redelivered", len(pending)
            )
            await asyncio.gather(*pending, return_exceptions=True)
