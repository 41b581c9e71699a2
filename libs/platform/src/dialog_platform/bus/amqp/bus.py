"""`AmqpBus`, the RabbitMQ adapter of the bus port (aio-pika): the port, and its sessions.

The topology it declares is described in `topology`; what becomes of each delivery, in
`delivery`.

Reconnection is our own loop over plain connections rather than `connect_robust`, which has a
history of channels and consumers left unrestored after a broker restart or a lost (rather than
closed) connection (aio-pika issues #231, #626) and never restores a consumer the broker
cancelled (#334). A session is one connection with its channels and consumers; when anything in
it closes, the supervisor throws the whole session away and builds a new one: reconnect with
backoff, re-declare, re-consume.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from functools import partial

import aio_pika
import aiormq
from aio_pika.abc import DeliveryMode

from dialog_contracts import BINDINGS, Envelope, EventData, queue_name

from ... import metrics, tracing
from ..base import (
    Bus,
    BusError,
    PublishError,
    RetryPolicy,
    Subscription,
    check_key_suffix,
    count_published,
)
from .delivery import Deliveries
from .session import ConfirmedPublisher, Session
from .topology import QueueSpec, Topology, all_at_once

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/cloudevents+json"


class AmqpBus(Bus):
    """The bus over RabbitMQ. See `topology` for what it declares, this module for reconnection."""

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
        self._prefetch = prefetch
        self._retry = retry or RetryPolicy()
        self._topology = Topology(namespace, self._retry)
        self._publisher = ConfirmedPublisher()
        self._deliveries = Deliveries(
            namespace=namespace,
            retry=self._retry,
            publisher=self._publisher,
            publish_timeout_s=publish_timeout_s,
            close_grace_s=close_grace_s,
        )
        self._publish_timeout_s = publish_timeout_s
        self._start_timeout_s = start_timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._reconnect_delay_s = reconnect_delay_s
        self._reconnect_max_delay_s = reconnect_max_delay_s
        self.connection_name = connection_name or (
            f"dialog {namespace} {socket.gethostname()} pid {os.getpid()}"
        )
        self._subscriptions: list[Subscription] = []
        # Insertion-ordered set of (consumer, event, key suffix), re-declared on every reconnect.
        self._ensured: dict[tuple[str, type[EventData], str], None] = {}
        self._session: Session | None = None
        self._state = asyncio.Condition()
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = False

    # -- the port ------------------------------------------------------------------------------

    def _started_or_closed(self) -> bool:
        return self._supervisor is not None or self._closing

    async def start(self) -> None:
        self._check_startable()
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
        await self._deliveries.drain()
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
                await self._publisher.publish(session.exchange, routing_key, message)
        except TimeoutError as exc:
            metrics.BUS_PUBLISH_FAILURES.labels(*labels).inc()
            raise PublishError(
                f"event {envelope.id} ({routing_key!r}) not confirmed by the broker "
                f"within {self._publish_timeout_s:g} s"
            ) from exc
        except PublishError:
            metrics.BUS_PUBLISH_FAILURES.labels(*labels).inc()
            raise
        count_published(envelope)

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
                    await self._topology.declare_queue(
                        channel, consumer, event, key_suffix, plumbing=True
                    )
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

    async def _open_session(self) -> Session:
        connection = await aio_pika.connect(
            self._url,
            timeout=self._connect_timeout_s,
            client_properties={"connection_name": self.connection_name},
        )
        try:
            channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
            exchange = await self._topology.declare_exchange(channel)
            session = Session(connection=connection, channel=channel, exchange=exchange)
            for delay_ms in self._topology.retry_delays_ms():
                session.retry_exchanges[delay_ms] = await self._topology.declare_retry(
                    channel, delay_ms
                )
            connection.close_callbacks.add(partial(self._on_closed, session))
            channel.close_callbacks.add(partial(self._on_closed, session))
            # The consumer queues of the whole system, so that an event published before its
            # consumer ever ran waits for it. Their retry and dead-letter queues are declared by
            # the processes that consume them.
            specs: list[QueueSpec] = [(b.consumer, b.event, "", False) for b in BINDINGS]
            specs += [(c, e, s, True) for c, e, s in list(self._ensured)]
            specs += [(s.consumer, s.event, s.key_suffix, True) for s in self._subscriptions]
            names = await self._topology.declare_all(connection, specs)
            own = names[len(names) - len(self._subscriptions) :]
            await all_at_once(
                self._consume(session, sub, name)
                for sub, name in zip(self._subscriptions, own, strict=True)
            )
            return session
        except BaseException:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), timeout=5)
            raise

    async def _consume(self, session: Session, sub: Subscription, name: str) -> None:
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
        tag = await queue.consume(partial(self._deliveries.on_delivery, session, sub, name))
        session.consumers.append((queue, tag))

    def _on_closed(self, session: Session, *_: object) -> None:
        session.discard()

    def _on_consumer_cancelled(self, session: Session, frame: object) -> None:
        if not self._closing:
            log.warning("bus: the broker cancelled a consumer (%r); rebuilding the session", frame)
        session.discard()

    def _usable(self) -> bool:
        return (
            self._closing
            or self._supervisor is None
            or (self._session is not None and self._session.alive)
        )

    async def _wait_session(self) -> Session:
        async with self._state:
            await self._state.wait_for(self._usable)
            session = self._session
            if self._closing or self._supervisor is None or session is None:
                raise PublishError("the bus is not started or already closed")
            return session
