"""A passing outage is waited out, never dead-lettered; a bad message still is (both adapters).

Over the real local RabbitMQ and in-process. The outage is a handler that raises what a client
library raises while its server is down (httpx's ConnectError, PyMongo's AutoReconnect) until
the test "brings the server back".
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import aio_pika
import httpx
import pymongo.errors
import pytest

from dialog_contracts import AppealRouted, Envelope, queue_name
from dialog_platform.bus import AmqpBus, InProcessBus, RetryPolicy
from dialog_platform.bus.amqp import dlq_name
from dialog_platform.faults import DependencyUnavailable, is_transient

# The AMQP tests' fixtures: buses in this test's own namespace, and a channel to look into queues.
from .test_bus_amqp import buses, channel, eventually, message_count, routed

__all__ = ["buses", "channel"]

# Content failures give up after 2 attempts in well under a second: an outage of a few
# seconds would have dead-lettered every message under the old rule.
POLICY = RetryPolicy(
    max_attempts=2, delays_s=(0.1,), transient_first_delay_s=0.05, transient_max_delay_s=0.4
)


class Neighbour:
    """A dependency that is down until `up()`; counts the calls that reached it."""

    def __init__(self, error: Callable[[], Exception]) -> None:
        self.error = error
        self.down = True
        self.calls = 0
        self.concurrent = 0
        self.max_concurrent = 0
        self.handled: list[str] = []

    def up(self) -> None:
        self.down = False

    async def handler(self, envelope: Envelope) -> None:
        self.calls += 1
        self.concurrent += 1
        self.max_concurrent = max(self.max_concurrent, self.concurrent)
        try:
            await asyncio.sleep(0.01)
            if self.down:
                raise self.error()
            self.handled.append(envelope.id)
        finally:
            self.concurrent -= 1


def test_library_errors_of_a_server_that_is_down_are_transient() -> None:
    request = httpx.Request("GET", "http://127.0.0.1:9/")
    assert is_transient(httpx.ConnectError("All connection attempts failed", request=request))
    assert is_transient(pymongo.errors.AutoReconnect("connection refused"))
    assert is_transient(pymongo.errors.ServerSelectionTimeoutError("no servers"))
    response = httpx.Response(503, request=request)
    assert is_transient(httpx.HTTPStatusError("503", request=request, response=response))
    assert is_transient(DependencyUnavailable("routing"))
    try:
        try:
            raise ConnectionRefusedError("refused")
        except ConnectionRefusedError as exc:
            raise RuntimeError("wrapped by a client") from exc
    except RuntimeError as wrapped:
        assert is_transient(wrapped)
    # The message's own fault is not an outage.
    assert not is_transient(ValueError("no such official"))
    assert not is_transient(KeyError("phone"))
    not_found = httpx.Response(404, request=request)
    assert not is_transient(httpx.HTTPStatusError("404", request=request, response=not_found))
    assert not is_transient(pymongo.errors.DuplicateKeyError("E11000"))


async def test_amqp_outage_is_waited_out_and_every_message_handled_once(
    buses: Callable[..., AmqpBus], channel: aio_pika.abc.AbstractChannel, bus_namespace: str
) -> None:
    request = httpx.Request("GET", "http://routing/")
    neighbour = Neighbour(lambda: httpx.ConnectError("connection refused", request=request))
    bus = buses(retry=POLICY, prefetch=8)
    bus.subscribe("notifier", AppealRouted, neighbour.handler)
    await bus.start()
    sent = [routed() for _ in range(20)]
    for envelope in sent:
        await bus.publish(envelope, AppealRouted.ROUTING_KEY)

    await asyncio.sleep(3.0)  # far past the 2 bounded attempts of a content failure
    main = queue_name(bus_namespace, "notifier", AppealRouted)
    assert await message_count(channel, dlq_name(main)) == 0
    assert neighbour.handled == []
    # One delivery probes; the others wait at the gate rather than each hammering the
    # neighbour: with a 0.4 s cap, 3 s of outage is a handful of probes, not hundreds.
    assert neighbour.calls < 30, neighbour.calls
    # The consumer holds at most its prefetch; the rest stay in the queue for others.
    assert await message_count(channel, main) >= len(sent) - 8

    neighbour.up()
    await eventually(lambda: len(neighbour.handled) == len(sent), within=15)
    await asyncio.sleep(0.5)
    assert sorted(neighbour.handled) == sorted(e.id for e in sent)
    assert await message_count(channel, dlq_name(main)) == 0
    assert await message_count(channel, main) == 0


async def test_amqp_a_bad_message_still_goes_to_the_dlq_during_and_after_an_outage(
    buses: Callable[..., AmqpBus], channel: aio_pika.abc.AbstractChannel, bus_namespace: str
) -> None:
    state = {"down": True}
    calls: list[str] = []

    async def handler(envelope: Envelope) -> None:
        calls.append(envelope.id)
        if state["down"]:
            raise pymongo.errors.AutoReconnect("127.0.0.1:27017: connection refused")
        raise ValueError("this event names an official nobody knows")

    bus = buses(retry=POLICY)
    bus.subscribe("notifier", AppealRouted, handler)
    await bus.start()
    envelope = routed()
    await bus.publish(envelope, AppealRouted.ROUTING_KEY)
    await asyncio.sleep(1.5)
    main = queue_name(bus_namespace, "notifier", AppealRouted)
    assert await message_count(channel, dlq_name(main)) == 0
    state["down"] = False

    async def dead() -> bool:
        return await message_count(channel, dlq_name(main)) == 1

    await eventually(dead, within=10)
    # Outage tries did not count: the content failure got its full 2 attempts afterwards.
    assert calls.count(envelope.id) >= 2 + 1


async def test_amqp_close_does_not_wait_for_an_outage(
    buses: Callable[..., AmqpBus], bus_namespace: str, channel: aio_pika.abc.AbstractChannel
) -> None:
    neighbour = Neighbour(lambda: ConnectionRefusedError("refused"))
    bus = buses(retry=POLICY, close_grace_s=30.0)
    bus.subscribe("notifier", AppealRouted, neighbour.handler)
    await bus.start()
    envelope = routed()
    await bus.publish(envelope, AppealRouted.ROUTING_KEY)
    await eventually(lambda: neighbour.calls >= 2)
    started = time.monotonic()
    await bus.close()
    assert time.monotonic() - started < 5.0
    main = queue_name(bus_namespace, "notifier", AppealRouted)

    async def back_in_queue() -> bool:
        return await message_count(channel, main) == 1

    # Not acked, not dead-lettered: the next consumer gets it.
    await eventually(back_in_queue, within=10)
    assert await message_count(channel, dlq_name(main)) == 0


async def test_in_process_outage_is_waited_out_and_never_dead_lettered() -> None:
    dead: list[str] = []

    async def dead_letter(envelope: Envelope, consumer: str, reason: str) -> None:
        dead.append(reason)

    neighbour = Neighbour(lambda: pymongo.errors.AutoReconnect("connection refused"))
    bus = InProcessBus(retry=POLICY, dead_letter=dead_letter)
    bus.subscribe("notifier", AppealRouted, neighbour.handler)
    await bus.start()
    try:
        sent = [routed() for _ in range(5)]
        publishes = [asyncio.create_task(bus.publish(e, AppealRouted.ROUTING_KEY)) for e in sent]
        await asyncio.sleep(2.0)
        assert dead == []
        assert not any(p.done() for p in publishes)
        # Five publishes at once, yet one probe at a time: the others wait at the gate.
        assert neighbour.calls < 25, neighbour.calls
        neighbour.up()
        await asyncio.wait_for(asyncio.gather(*publishes), timeout=10)
        assert sorted(neighbour.handled) == sorted(e.id for e in sent)
        assert dead == []
    finally:
        await bus.close()


async def test_in_process_bad_message_is_dead_lettered_and_close_ends_an_outage() -> None:
    dead: list[str] = []

    async def dead_letter(envelope: Envelope, consumer: str, reason: str) -> None:
        dead.append(reason)

    async def bad(envelope: Envelope) -> None:
        raise ValueError("no such official")

    bus = InProcessBus(retry=POLICY, dead_letter=dead_letter)
    bus.subscribe("routing", AppealRouted, bad)
    down = Neighbour(lambda: ConnectionRefusedError("refused"))
    bus.subscribe("notifier", AppealRouted, down.handler)
    await bus.start()
    publish = asyncio.create_task(bus.publish(routed(), AppealRouted.ROUTING_KEY))
    await eventually(lambda: len(dead) == 1)
    assert dead[0].startswith("ValueError: no such official")
    assert not publish.done()  # the notifier still waits for its neighbour
    started = time.monotonic()
    await bus.close()
    assert time.monotonic() - started < 2.0
    with pytest.raises(Exception, match="cancelled"):
        await publish
