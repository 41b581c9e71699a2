"""AmqpBus against the real local RabbitMQ: confirms, routing, retries, dead letters, recovery."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aio_pika
import pytest

from dialog_contracts import (
    AppealRecorded,
    AppealRouted,
    Envelope,
    Localized,
    ReceiptRequested,
    VideoRef,
    exchange_name,
    queue_name,
)
from dialog_platform.bus import (
    AmqpBus,
    BusError,
    PublishError,
    RetryPolicy,
    UnroutableError,
    create_bus,
)
from dialog_platform.bus.amqp import (
    CONTENT_TYPE,
    HEADER_ATTEMPTS,
    HEADER_CONSUMER,
    HEADER_QUEUE,
    HEADER_REASON,
    dlq_name,
    retry_queue_name,
)
from dialog_platform.net import free_port
from dialog_platform.settings import CommonSettings

FAST = RetryPolicy(max_attempts=3, delays_s=(0.2, 0.4))


# -- events -------------------------------------------------------------------------------------


def routed(appeal_id: str | None = None) -> Envelope:
    data = AppealRouted(
        appeal_id=appeal_id or uuid.uuid4().hex,
        registration_number="2025-000001-7",
        official_id="off-1",
        addressed_official_id="off-1",
        language="kk",
        control_date=date(2025, 3, 17),
        legal_deadline=date(2025, 3, 24),
        routed_at=datetime(2025, 3, 3, 10, 0, tzinfo=UTC),
    )
    return Envelope.wrap(data, source="test/routing")


def recorded() -> Envelope:
    data = AppealRecorded(
        appeal_id=uuid.uuid4().hex,
        registration_number="2025-000002-5",
        kiosk_id="kiosk-a",
        official_id="off-1",
        category="question",
        language="ru",
        phone="+77011234567",
        recorded_at=datetime(2025, 3, 3, 10, 0, tzinfo=UTC),
        control_date=date(2025, 3, 17),
        legal_deadline=date(2025, 3, 24),
        video=VideoRef(key="v/1.webm", duration_s=12.5, size=1000, sha256="0" * 64),
    )
    return Envelope.wrap(data, source="test/kiosk-gateway")


def receipt(kiosk_id: str) -> tuple[Envelope, str]:
    data = ReceiptRequested(
        appeal_id=uuid.uuid4().hex,
        kiosk_id=kiosk_id,
        copy_number=1,
        registration_number="2025-000003-3",
        access_code="12345678",
        language="kk",
        category="violation",
        recorded_at=datetime(2025, 3, 3, 10, 0, tzinfo=UTC),
        control_date=date(2025, 3, 17),
        center=Localized(kk="ХҚКО", ru="ЦОН"),
        official_name=Localized(kk="Әлия Қасымова", ru="Алия Касымова"),
        official_position=Localized(kk="әкім", ru="аким"),
        tracking_url="http://127.0.0.1:8080/track",
    )
    return Envelope.wrap(data, source="test/kiosk-gateway"), data.routing_key()


# -- helpers ------------------------------------------------------------------------------------


@pytest.fixture
async def buses(rabbitmq_url: str, bus_namespace: str) -> AsyncIterator[Callable[..., AmqpBus]]:
    """Make buses in this test's namespace; every one is closed at the end."""
    made: list[AmqpBus] = []

    def make(*, url: str | None = None, **kwargs: Any) -> AmqpBus:
        kwargs.setdefault("retry", FAST)
        kwargs.setdefault("publish_timeout_s", 10.0)
        kwargs.setdefault("reconnect_max_delay_s", 1.0)
        kwargs.setdefault("connection_name", f"test {bus_namespace} {uuid.uuid4().hex[:8]}")
        bus = AmqpBus(url or rabbitmq_url, namespace=bus_namespace, **kwargs)
        made.append(bus)
        return bus

    yield make
    for bus in made:
        await bus.close()


@pytest.fixture
async def channel(rabbitmq_url: str) -> AsyncIterator[aio_pika.abc.AbstractChannel]:
    """A plain connection of the test's own, to look into queues."""
    connection = await aio_pika.connect(rabbitmq_url)
    try:
        yield await connection.channel()
    finally:
        await connection.close()


async def eventually(
    check: Callable[[], Awaitable[bool]] | Callable[[], bool], within: float = 10.0
) -> None:
    deadline = time.monotonic() + within
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def message_count(channel: aio_pika.abc.AbstractChannel, name: str) -> int:
    queue = await channel.declare_queue(name, passive=True)
    count = queue.declaration_result.message_count
    assert count is not None
    return count


async def get_one(
    channel: aio_pika.abc.AbstractChannel, name: str, within: float = 10.0
) -> aio_pika.abc.AbstractIncomingMessage:
    queue = await channel.get_queue(name)
    deadline = time.monotonic() + within
    while True:
        message = await queue.get(fail=False, no_ack=True)
        if message is not None:
            return message
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing arrived in {name} in time")
        await asyncio.sleep(0.05)


def rabbitmqctl(*args: str) -> str:
    done = subprocess.run(
        ["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout


async def arabbitmqctl(*args: str) -> str:
    # Off the event loop: the bus under test must keep running while rabbitmqctl boots.
    return await asyncio.to_thread(rabbitmqctl, *args)


async def connection_pids(connection_name: str) -> list[str]:
    """Broker-side ids of the connections a bus opened (told apart by their connection name)."""
    # The table form, not JSON: close_connection takes the pid as the table prints it.
    listing = await arabbitmqctl(
        "list_connections", "--no-table-headers", "pid", "client_properties"
    )
    marker = f'{{"connection_name","{connection_name}"}}'
    return [line.split("\t", 1)[0] for line in listing.splitlines() if marker in line]


class TcpProxy:
    """A loopback TCP relay to the broker that can cut every connection and refuse new ones.

    It stands in for a broker that crashed or a network that failed: the bus sees its socket
    die without an AMQP close, and reconnect attempts fail until `resume()`.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 5672) -> None:
        self.target = (host, port)
        self.accepting = True
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.accepting:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
        self._writers -= {writer, up_writer}

    def cut(self) -> None:
        self.accepting = False
        for writer in list(self._writers):
            writer.transport.abort()

    def resume(self) -> None:
        self.accepting = True

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@pytest.fixture
async def proxy(rabbitmq_url: str) -> AsyncIterator[TcpProxy]:
    p = TcpProxy()
    await p.start()
    yield p
    await p.close()


def proxied_url(proxy_port: int) -> str:
    return f"amqp://guest:guest@127.0.0.1:{proxy_port}/"


async def _proxy_port(proxy: TcpProxy) -> int:
    assert proxy._server is not None
    port: int = proxy._server.sockets[0].getsockname()[1]
    return port


# -- publish and consume ------------------------------------------------------------------------


async def test_publish_is_confirmed_and_consumed(
    buses: Callable[..., AmqpBus], channel: aio_pika.abc.AbstractChannel, bus_namespace: str
) -> None:
    got: list[Envelope] = []
    bus = buses()
    bus.subscribe("notifier", AppealRouted, lambda e: _append(got, e))
    await bus.start()
    assert await bus.ping()

    envelope = routed()
    await bus.publish(envelope, AppealRouted.ROUTING_KEY)

    await eventually(lambda: len(got) == 1)
    assert got[0] == envelope
    assert got[0].parse(AppealRouted).appeal_id == envelope.data["appeal_id"]

    # The dashboard's queue (declared from the static topology, nobody consuming here) holds the
    # same event as it went over the wire.
    wire = await get_one(channel, queue_name(bus_namespace, "dashboard", AppealRouted))
    assert wire.content_type == CONTENT_TYPE
    assert wire.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert wire.message_id == envelope.id
    assert wire.type == envelope.type
    assert Envelope.from_bytes(wire.body) == envelope


async def _append(into: list[Envelope], envelope: Envelope) -> None:
    into.append(envelope)


async def test_queues_are_durable_quorum_queues(
    buses: Callable[..., AmqpBus], bus_namespace: str
) -> None:
    bus = buses()
    bus.subscribe("notifier", AppealRouted, lambda e: _append([], e))
    await bus.start()
    rows = json.loads(
        await arabbitmqctl("list_queues", "name", "durable", "type", "--formatter", "json")
    )
    mine = {row["name"]: row for row in rows if row["name"].startswith(bus_namespace)}
    main = queue_name(bus_namespace, "notifier", AppealRouted)
    # Every consumer of the static topology has its queue, not only the subscribed one.
    assert queue_name(bus_namespace, "routing", AppealRecorded) in mine
    retries = [retry_queue_name(bus_namespace, delay) for delay in (200, 400)]
    for name in (main, dlq_name(main), *retries):
        assert mine[name]["durable"] is True
        assert mine[name]["type"] == "quorum"
    # The retry queues are the namespace's, not one set per consumer queue.
    assert not [name for name in mine if name.startswith(f"{main}.retry")]


async def test_event_published_before_its_consumer_ever_ran_waits_for_it(
    buses: Callable[..., AmqpBus],
) -> None:
    publisher = buses()
    await publisher.start()
    envelope = recorded()
    await publisher.publish(envelope, AppealRecorded.ROUTING_KEY)

    got: list[Envelope] = []
    consumer = buses()
    consumer.subscribe("routing", AppealRecorded, lambda e: _append(got, e))
    await consumer.start()
    await eventually(lambda: [e.id for e in got] == [envelope.id])


async def test_unroutable_publish_raises_and_the_bus_keeps_working(
    buses: Callable[..., AmqpBus],
) -> None:
    got: list[Envelope] = []
    bus = buses()
    bus.subscribe("notifier", AppealRouted, lambda e: _append(got, e))
    await bus.start()

    with pytest.raises(UnroutableError):
        await bus.publish(routed(), "nothing.is.bound.here")

    envelope = routed()
    await bus.publish(envelope, AppealRouted.ROUTING_KEY)
    await eventually(lambda: [e.id for e in got] == [envelope.id])


async def test_publish_before_start_and_after_close_raises(buses: Callable[..., AmqpBus]) -> None:
    bus = buses()
    with pytest.raises(PublishError):
        await bus.publish(routed(), AppealRouted.ROUTING_KEY)
    await bus.start()
    await bus.close()
    assert not await bus.ping()
    with pytest.raises(PublishError):
        await bus.publish(routed(), AppealRouted.ROUTING_KEY)


async def test_handlers_run_concurrently_up_to_the_prefetch(
    buses: Callable[..., AmqpBus],
) -> None:
    active = 0
    peak = 0
    done: list[str] = []

    async def slow(envelope: Envelope) -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.3)
        active -= 1
        done.append(envelope.id)

    bus = buses(prefetch=3)
    bus.subscribe("notifier", AppealRouted, slow)
    await bus.start()
    for _ in range(7):
        await bus.publish(routed(), AppealRouted.ROUTING_KEY)
    await eventually(lambda: len(done) == 7)
    assert peak == 3


# -- per-kiosk routing --------------------------------------------------------------------------


async def test_a_receipt_for_kiosk_a_never_reaches_kiosk_b(
    buses: Callable[..., AmqpBus], channel: aio_pika.abc.AbstractChannel, bus_namespace: str
) -> None:
    gateway = buses()
    await gateway.start()
    await gateway.ensure_queue("printer-agent", ReceiptRequested, "kiosk-a")
    await gateway.ensure_queue("printer-agent", ReceiptRequested, "kiosk-b")

    got_a: list[Envelope] = []
    printer_a = buses()
    printer_a.subscribe(
        "printer-agent", ReceiptRequested, lambda e: _append(got_a, e), key_suffix="kiosk-a"
    )
    await printer_a.start()

    for_a = [receipt("kiosk-a") for _ in range(3)]
    for_b = receipt("kiosk-b")
    for envelope, key in [*for_a, for_b]:
        await gateway.publish(envelope, key)

    await eventually(lambda: len(got_a) == 3)
    assert {e.id for e in got_a} == {e.id for e, _ in for_a}
    assert all(e.data["kiosk_id"] == "kiosk-a" for e in got_a)

    queue_b = queue_name(bus_namespace, "printer-agent", ReceiptRequested, "kiosk-b")
    only = await get_one(channel, queue_b)
    assert only.message_id == for_b[0].id
    assert await message_count(channel, queue_b) == 0

    # A kiosk nobody registered has no queue: its receipt cannot silently vanish.
    with pytest.raises(UnroutableError):
        envelope, key = receipt("kiosk-unknown")
        await gateway.publish(envelope, key)


async def test_a_key_suffix_with_topic_wildcards_is_refused(buses: Callable[..., AmqpBus]) -> None:
    bus = buses()
    with pytest.raises(ValueError):
        bus.subscribe("printer-agent", ReceiptRequested, lambda e: _append([], e), key_suffix="#")
    with pytest.raises(ValueError):
        await bus.ensure_queue("printer-agent", ReceiptRequested, "a.b")


# -- failures -----------------------------------------------------------------------------------


async def test_a_failing_handler_is_retried_with_backoff_and_handled_once(
    buses: Callable[..., AmqpBus], channel: aio_pika.abc.AbstractChannel, bus_namespace: str
) -> None:
    calls: list[float] = []
    succeeded: list[str] = []
    dashboard: list[str] = []

    async def flaky(envelope: Envelope) -> None:
        calls.append(time.monotonic())
        if len(calls) <= 2:
            raise RuntimeError(f"transient failure {len(calls)}")
        succeeded.append(envelope.id)

    async def steady(envelope: Envelope) -> None:
        dashboard.append(envelope.id)

    bus = buses(retry=RetryPolicy(max_attempts=4, delays_s=(0.2, 0.4, 0.8)))
    bus.subscribe("notifier", AppealRouted, flaky)
    bus.subscribe("dashboard", AppealRouted, steady)
    await bus.start()

    envelope = routed()
    await bus.publish(envelope, AppealRouted.ROUTING_KEY)
    await eventually(lambda: succeeded == [envelope.id])
    await asyncio.sleep(1.0)  # room for a stray extra delivery to show up

    assert len(calls) == 3
    assert succeeded == [envelope.id]
    assert calls[1] - calls[0] >= 0.2 * 0.9
    assert calls[2] - calls[1] >= 0.4 * 0.9
    # Retries go to the failing consumer's queue only, never back through the topic exchange.
    assert dashboard == [envelope.id]
    main = queue_name(bus_namespace, "notifier", AppealRouted)
    assert await message_count(channel, dlq_name(main)) == 0


async def test_two_consumers_retried_through_the_shared_delay_queue_each_get_theirs_back(
    buses: Callable[..., AmqpBus], channel: aio_pika.abc.AbstractChannel, bus_namespace: str
) -> None:
    calls: dict[str, list[str]] = {"notifier": [], "dashboard": []}

    def fails_once(consumer: str) -> Callable[[Envelope], Awaitable[None]]:
        async def handler(envelope: Envelope) -> None:
            calls[consumer].append(envelope.id)
            if len(calls[consumer]) == 1:
                raise RuntimeError(f"{consumer} fails once")

        return handler

    bus = buses(retry=RetryPolicy(max_attempts=3, delays_s=(0.2, 0.4)))
    bus.subscribe("notifier", AppealRouted, fails_once("notifier"))
    bus.subscribe("dashboard", AppealRouted, fails_once("dashboard"))
    await bus.start()

    envelope = routed()
    await bus.publish(envelope, AppealRouted.ROUTING_KEY)
    await eventually(lambda: all(len(c) == 2 for c in calls.values()))
    await asyncio.sleep(1.0)  # room for a copy that went to the wrong queue to show up

    assert calls == {"notifier": [envelope.id] * 2, "dashboard": [envelope.id] * 2}
    assert await message_count(channel, retry_queue_name(bus_namespace, 200)) == 0


async def test_an_always_failing_handler_ends_in_the_dlq_after_max_attempts(
    buses: Callable[..., AmqpBus], channel: aio_pika.abc.AbstractChannel, bus_namespace: str
) -> None:
    calls: list[str] = []

    async def broken(envelope: Envelope) -> None:
        calls.append(envelope.id)
        raise ValueError(f"cannot send SMS for {envelope.data['appeal_id']}")

    bus = buses(retry=RetryPolicy(max_attempts=3, delays_s=(0.2,)))
    bus.subscribe("notifier", AppealRouted, broken)
    await bus.start()

    envelope = routed()
    await bus.publish(envelope, AppealRouted.ROUTING_KEY)

    main = queue_name(bus_namespace, "notifier", AppealRouted)
    dead = await get_one(channel, dlq_name(main))
    await asyncio.sleep(0.6)  # a further attempt would have happened by now

    assert calls == [envelope.id] * 3
    assert Envelope.from_bytes(dead.body) == envelope
    assert dead.message_id == envelope.id
    assert dead.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    headers = dead.headers
    assert headers[HEADER_ATTEMPTS] == 3
    assert headers[HEADER_CONSUMER] == "notifier"
    assert headers[HEADER_QUEUE] == main
    reason = headers[HEADER_REASON]
    assert isinstance(reason, str)
    assert reason.startswith("ValueError: cannot send SMS for " + envelope.data["appeal_id"])
    assert await message_count(channel, main) == 0
    assert await message_count(channel, dlq_name(main)) == 0  # we took the only one


async def test_a_body_that_is_not_an_envelope_goes_straight_to_the_dlq(
    buses: Callable[..., AmqpBus],
    channel: aio_pika.abc.AbstractChannel,
    bus_namespace: str,
) -> None:
    calls: list[Envelope] = []
    bus = buses()
    bus.subscribe("notifier", AppealRouted, lambda e: _append(calls, e))
    await bus.start()

    exchange = await channel.get_exchange(exchange_name(bus_namespace))
    await exchange.publish(
        aio_pika.Message(b'{"not": "an envelope"}', message_id="garbage-1"),
        AppealRouted.ROUTING_KEY,
    )
    main = queue_name(bus_namespace, "notifier", AppealRouted)
    dead = await get_one(channel, dlq_name(main))
    assert dead.body == b'{"not": "an envelope"}'
    assert dead.message_id == "garbage-1"
    assert str(dead.headers[HEADER_REASON]).startswith("invalid envelope")
    assert dead.headers[HEADER_ATTEMPTS] == 0
    assert calls == []


# -- crashes and recovery -----------------------------------------------------------------------

CRASHING_CONSUMER = textwrap.dedent(
    """
    import asyncio, sys
    from dialog_contracts import AppealRouted
    from dialog_platform.bus import AmqpBus

    async def main() -> None:
        url, namespace = sys.argv[1], sys.argv[2]
        bus = AmqpBus(url, namespace=namespace)

        async def handler(envelope):
            print("GOT", envelope.id, flush=True)
            await asyncio.Event().wait()  # killed before it ever returns, so never acked

        bus.subscribe("notifier", AppealRouted, handler)
        await bus.start()
        print("READY", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())
    """
)


async def test_a_message_whose_consumer_died_before_ack_is_delivered_again(
    buses: Callable[..., AmqpBus],
    rabbitmq_url: str,
    bus_namespace: str,
    tmp_path: Path,
) -> None:
    script = tmp_path / "consumer.py"
    script.write_text(CRASHING_CONSUMER)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        rabbitmq_url,
        bus_namespace,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=60)
        assert line.strip() == b"READY"

        publisher = buses()
        await publisher.start()
        envelope = routed()
        await publisher.publish(envelope, AppealRouted.ROUTING_KEY)

        line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
        assert line.split() == [b"GOT", envelope.id.encode()]
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGKILL)
        await process.wait()

    got: list[Envelope] = []
    survivor = buses()
    survivor.subscribe("notifier", AppealRouted, lambda e: _append(got, e))
    await survivor.start()
    await eventually(lambda: [e.id for e in got] == [envelope.id], within=30)


async def test_consumers_and_publishing_come_back_after_the_broker_closes_the_connection(
    buses: Callable[..., AmqpBus],
) -> None:
    got: list[Envelope] = []
    bus = buses()
    bus.subscribe("notifier", AppealRouted, lambda e: _append(got, e))
    await bus.start()
    before = routed()
    await bus.publish(before, AppealRouted.ROUTING_KEY)
    await eventually(lambda: len(got) == 1)

    [old_pid] = await connection_pids(bus.connection_name)
    await arabbitmqctl("close_connection", old_pid, "test")

    async def reconnected() -> bool:
        return await connection_pids(bus.connection_name) not in ([], [old_pid])

    await eventually(reconnected, within=30)
    await eventually(bus.ping)

    after = routed()
    await bus.publish(after, AppealRouted.ROUTING_KEY)
    await eventually(lambda: [e.id for e in got] == [before.id, after.id])


async def test_publish_waits_for_the_broker_to_come_back(
    proxy: TcpProxy, buses: Callable[..., AmqpBus]
) -> None:
    got: list[Envelope] = []
    bus = buses(url=proxied_url(await _proxy_port(proxy)))
    bus.subscribe("notifier", AppealRouted, lambda e: _append(got, e))
    await bus.start()

    proxy.cut()  # the socket dies with no AMQP close, as when the broker host goes away
    await eventually(lambda: _not(bus.ping()))

    envelope = routed()
    publishing = asyncio.create_task(bus.publish(envelope, AppealRouted.ROUTING_KEY))
    await asyncio.sleep(1.5)
    assert not publishing.done()
    assert not got

    proxy.resume()
    await asyncio.wait_for(publishing, timeout=15)
    await eventually(lambda: [e.id for e in got] == [envelope.id])
    assert await bus.ping()


async def test_publish_gives_up_when_the_broker_stays_away(
    proxy: TcpProxy, buses: Callable[..., AmqpBus]
) -> None:
    bus = buses(url=proxied_url(await _proxy_port(proxy)), publish_timeout_s=1.0)
    await bus.start()
    proxy.cut()
    await eventually(lambda: _not(bus.ping()))

    started = time.monotonic()
    with pytest.raises(PublishError):
        await bus.publish(routed(), AppealRouted.ROUTING_KEY)
    assert time.monotonic() - started < 5


async def test_a_consumer_whose_queue_was_deleted_comes_back(
    buses: Callable[..., AmqpBus],
    channel: aio_pika.abc.AbstractChannel,
    rabbitmq_url: str,
    bus_namespace: str,
) -> None:
    got: list[Envelope] = []
    bus = buses()
    bus.subscribe("notifier", AppealRouted, lambda e: _append(got, e))
    await bus.start()
    main = queue_name(bus_namespace, "notifier", AppealRouted)
    await channel.queue_delete(main)  # the broker cancels the consumer

    async def consumed_again() -> bool:
        # A connection per look: a passive declaration of a missing queue closes its channel.
        async with await aio_pika.connect(rabbitmq_url) as connection:
            look = await connection.channel()
            try:
                queue = await look.declare_queue(main, passive=True)
            except aio_pika.exceptions.ChannelNotFoundEntity:
                return False
            return queue.declaration_result.consumer_count == 1

    await eventually(consumed_again, within=30)
    envelope = routed()
    await bus.publish(envelope, AppealRouted.ROUTING_KEY)
    await eventually(lambda: [e.id for e in got] == [envelope.id])


async def test_a_missing_retry_queue_is_declared_again_and_nothing_is_lost(
    buses: Callable[..., AmqpBus], channel: aio_pika.abc.AbstractChannel, bus_namespace: str
) -> None:
    calls: list[str] = []

    async def fails_twice(envelope: Envelope) -> None:
        calls.append(envelope.id)
        if len(calls) <= 2:
            raise RuntimeError("transient")

    bus = buses()
    bus.subscribe("notifier", AppealRouted, fails_twice)
    await bus.start()
    main = queue_name(bus_namespace, "notifier", AppealRouted)
    await channel.queue_delete(retry_queue_name(bus_namespace, 200))

    envelope = routed()
    await bus.publish(envelope, AppealRouted.ROUTING_KEY)
    await eventually(lambda: len(calls) == 3, within=30)
    await asyncio.sleep(0.5)
    assert calls == [envelope.id] * 3
    assert await message_count(channel, retry_queue_name(bus_namespace, 200)) == 0
    assert await message_count(channel, dlq_name(main)) == 0


async def test_close_lets_a_running_handler_finish_and_ack(
    buses: Callable[..., AmqpBus], channel: aio_pika.abc.AbstractChannel, bus_namespace: str
) -> None:
    started = asyncio.Event()
    finished: list[str] = []

    async def slow(envelope: Envelope) -> None:
        started.set()
        await asyncio.sleep(0.5)
        finished.append(envelope.id)

    bus = buses()
    bus.subscribe("notifier", AppealRouted, slow)
    await bus.start()
    envelope = routed()
    await bus.publish(envelope, AppealRouted.ROUTING_KEY)
    await asyncio.wait_for(started.wait(), timeout=10)
    await bus.close()
    assert finished == [envelope.id]
    # Acked before the connection closed: nothing is left to deliver again.
    assert await message_count(channel, queue_name(bus_namespace, "notifier", AppealRouted)) == 0


async def test_start_fails_when_the_broker_is_unreachable(buses: Callable[..., AmqpBus]) -> None:
    bus = buses(url=f"amqp://guest:guest@127.0.0.1:{free_port()}/", start_timeout_s=1.0)
    with pytest.raises(BusError):
        await bus.start()


async def test_close_during_start_ends_start(
    proxy: TcpProxy, buses: Callable[..., AmqpBus]
) -> None:
    proxy.cut()  # start() keeps retrying the connection
    bus = buses(url=proxied_url(await _proxy_port(proxy)))
    starting = asyncio.create_task(bus.start())
    await asyncio.sleep(0.5)
    await bus.close()
    with pytest.raises(BusError):
        await asyncio.wait_for(starting, timeout=5)


async def _not(value: Awaitable[bool]) -> bool:
    return not await value


async def test_create_bus_with_a_url_uses_rabbitmq_and_the_settings_policy(
    rabbitmq_url: str, bus_namespace: str, channel: aio_pika.abc.AbstractChannel
) -> None:
    settings = CommonSettings(
        bus_url=rabbitmq_url,
        bus_namespace=bus_namespace,
        bus_max_attempts=2,
        bus_retry_first_delay_s=0.2,
    )
    bus = create_bus(settings)
    assert isinstance(bus, AmqpBus)
    calls: list[str] = []

    async def broken(envelope: Envelope) -> None:
        calls.append(envelope.id)
        raise RuntimeError("nope")

    bus.subscribe("notifier", AppealRouted, broken)
    await bus.start()
    try:
        envelope = routed()
        await bus.publish(envelope, AppealRouted.ROUTING_KEY)
        dead = await get_one(channel, dlq_name(queue_name(bus_namespace, "notifier", AppealRouted)))
        assert dead.headers[HEADER_ATTEMPTS] == 2
        assert calls == [envelope.id, envelope.id]
    finally:
        await bus.close()
