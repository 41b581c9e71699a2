"""Dead letters seen, replayed and dropped: RabbitMQ's DLQs and the single process's store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from dialog_contracts import AppealRouted, Envelope, queue_name
from dialog_platform.bus import AmqpBus, RetryPolicy
from dialog_platform.bus.deadletters import (
    AmqpDeadLetters,
    ReplayRefused,
    StoredDeadLetters,
    UnknownQueue,
    format_age,
    open_dead_letters,
)
from dialog_platform.settings import CommonSettings
from dialog_platform.testing.waiting import eventually

from .test_bus_amqp import receipt, routed

FAST = RetryPolicy(max_attempts=2, delays_s=(0.1,))


async def dlq_count(letters: AmqpDeadLetters | StoredDeadLetters, dlq: str) -> int:
    return next(s.count for s in await letters.summary() if s.queue == dlq)


def test_ages_read_like_durations() -> None:
    assert format_age(None) == "—"
    assert format_age(42.9) == "42s"
    assert format_age(192) == "3m12s"
    assert format_age(2 * 3600 + 5 * 60) == "2h05m"
    assert format_age(4 * 86400 + 3 * 3600) == "4d03h"


@pytest.fixture
async def letters(rabbitmq_url: str, bus_namespace: str) -> AsyncIterator[AmqpDeadLetters]:
    dl = AmqpDeadLetters(rabbitmq_url, bus_namespace)
    yield dl
    await dl.close()


async def test_amqp_dead_letter_is_seen_replayed_once_and_gone(
    rabbitmq_url: str, bus_namespace: str, letters: AmqpDeadLetters
) -> None:
    broken = True
    handled: list[str] = []

    async def handler(envelope: Envelope) -> None:
        if broken:
            raise ValueError(f"bad content in {envelope.id}")
        handled.append(envelope.id)

    bus = AmqpBus(rabbitmq_url, namespace=bus_namespace, retry=FAST)
    bus.subscribe("notifier", AppealRouted, handler)
    await bus.start()
    try:
        envelope = routed()
        await bus.publish(envelope, AppealRouted.ROUTING_KEY)
        dlq = queue_name(bus_namespace, "notifier", AppealRouted) + ".dlq"

        async def dead() -> bool:
            return await dlq_count(letters, dlq) == 1

        await eventually(dead)
        row = next(s for s in await letters.summary() if s.queue == dlq)
        assert row.last_error == f"ValueError: bad content in {envelope.id}"
        assert row.oldest_age_s is not None and 0 <= row.oldest_age_s < 60

        shown = await letters.show(dlq)
        assert [(d.id, d.type, d.consumer, d.attempts) for d in shown] == [
            (envelope.id, AppealRouted.TYPE, "notifier", 2)
        ]
        assert shown[0].time == envelope.time and shown[0].subject == envelope.subject
        assert await dlq_count(letters, dlq) == 1  # showing leaves it there

        broken = False
        # Either spelling of the queue names it.
        assert await letters.replay(dlq.removesuffix(".dlq"), None) == 1

        async def delivered() -> bool:
            return handled == [envelope.id]

        await eventually(delivered)
        await asyncio.sleep(0.5)
        assert handled == [envelope.id]
        assert await dlq_count(letters, dlq) == 0
        with pytest.raises(UnknownQueue):
            await letters.show("nobody.nothing.dlq")
    finally:
        await bus.close()


async def test_amqp_replay_by_id_and_drop_touch_only_the_one_chosen(
    rabbitmq_url: str, bus_namespace: str, letters: AmqpDeadLetters
) -> None:
    handled: list[str] = []
    fixed: set[str] = set()

    async def handler(envelope: Envelope) -> None:
        if envelope.id not in fixed:
            raise RuntimeError("content")
        handled.append(envelope.id)

    bus = AmqpBus(rabbitmq_url, namespace=bus_namespace, retry=FAST)
    bus.subscribe("dashboard", AppealRouted, handler)
    await bus.start()
    try:
        first, second, third = routed(), routed(), routed()
        for e in (first, second, third):
            await bus.publish(e, AppealRouted.ROUTING_KEY)
        dlq = queue_name(bus_namespace, "dashboard", AppealRouted) + ".dlq"

        async def three() -> bool:
            return await dlq_count(letters, dlq) == 3

        await eventually(three)
        assert await letters.drop(dlq, first.id) is True
        assert await letters.drop(dlq, first.id) is False
        assert {d.id for d in await letters.show(dlq)} == {second.id, third.id}

        fixed.add(second.id)
        assert await letters.replay(dlq, [second.id]) == 1

        async def delivered() -> bool:
            return handled == [second.id]

        await eventually(delivered)
        assert [d.id for d in await letters.show(dlq)] == [third.id]
    finally:
        await bus.close()


# -- the single process ------------------------------------------------------------------------


@pytest.fixture
async def stored(mongo_url: str, db_prefix: str) -> AsyncIterator[StoredDeadLetters]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    settings = CommonSettings(db_prefix=db_prefix)
    dl = open_dead_letters(settings, client)
    assert isinstance(dl, StoredDeadLetters)
    yield dl
    await client.drop_database(f"{db_prefix}_bus")
    await client.close()


async def test_stored_dead_letters_are_listed_replayed_through_the_claim_and_dropped(
    stored: StoredDeadLetters,
) -> None:
    one, two = routed(), routed()
    await stored.record(one, "notifier", "ValueError: first", 5)
    await stored.record(one, "notifier", "ValueError: first again", 5)  # the same one, updated
    await stored.record(two, "notifier", "ValueError: second", 5)
    dlq = "notifier.appeal-routed.dlq"

    row = next(s for s in await stored.summary() if s.queue == dlq)
    assert (row.count, row.last_error) == (2, "ValueError: second")
    assert all(s.count == 0 for s in await stored.summary() if s.queue != dlq)
    shown = await stored.show("notifier.appeal-routed", 10)
    assert [(d.id, d.attempts, d.consumer) for d in shown] == [
        (one.id, 5, "notifier"),
        (two.id, 5, "notifier"),
    ]

    assert await stored.drop(dlq, one.id) is True
    assert await stored.drop(dlq, one.id) is False
    assert await stored.take_replays() == []
    assert await stored.replay(dlq, None) == 1
    assert await stored.replay(dlq, None) == 0  # already asked for
    assert await stored.take_replays() == [("notifier", two)]
    assert await stored.take_replays() == []
    assert next(s for s in await stored.summary() if s.queue == dlq).count == 0
    with pytest.raises(UnknownQueue):
        await stored.replay("nobody.nothing", None)


async def test_a_per_kiosk_receipt_is_kept_under_its_kiosks_queue(
    stored: StoredDeadLetters,
) -> None:
    envelope, _ = receipt("kiosk-a")
    await stored.record(envelope, "printer-agent", "RuntimeError: paper", 3)
    dlq = "printer-agent.receipt-requested.kiosk-a.dlq"
    assert next(s for s in await stored.summary() if s.queue == dlq).count == 1
    assert await stored.replay(dlq, [envelope.id]) == 1


async def test_the_in_process_bus_delivers_a_replayed_dead_letter_once_the_cause_is_fixed(
    stored: StoredDeadLetters,
) -> None:
    from dialog_platform.bus import InProcessBus, RetryPolicy

    fixed = {"yes": False}
    handled: list[str] = []
    done = asyncio.Event()

    async def handler(envelope: Envelope) -> None:
        if not fixed["yes"]:
            raise ValueError("the template for this event is missing")
        handled.append(envelope.id)
        done.set()

    async def dead_letter(envelope: Envelope, consumer: str, reason: str) -> None:
        await stored.record(envelope, consumer, reason, 2)

    bus = InProcessBus(
        retry=RetryPolicy(max_attempts=2, delays_s=(0.05,)),
        dead_letter=dead_letter,
        replays=stored.take_replays,
    )
    bus.subscribe("notifier", AppealRouted, handler)
    await bus.start()
    try:
        envelope = routed()
        await bus.publish(envelope, AppealRouted.ROUTING_KEY)
        dlq = "notifier.appeal-routed.dlq"
        row = next(s for s in await stored.summary() if s.queue == dlq)
        assert row.count == 1
        assert row.last_error is not None and "template" in row.last_error
        fixed["yes"] = True
        assert await stored.replay(dlq, [envelope.id]) == 1
        await asyncio.wait_for(done.wait(), timeout=10)
        await asyncio.sleep(1.5)  # a second poll must not deliver it again
        assert handled == [envelope.id]
        assert next(s for s in await stored.summary() if s.queue == dlq).count == 0
    finally:
        await bus.close()


async def test_a_replay_with_no_queue_to_take_it_keeps_the_dead_letter(
    rabbitmq_url: str, bus_namespace: str, letters: AmqpDeadLetters
) -> None:
    import aio_pika

    dlq = f"{bus_namespace}.gone.appeal-routed.dlq"  # its consumer queue was never declared
    connection = await aio_pika.connect(rabbitmq_url)
    try:
        channel = await connection.channel()
        await channel.declare_queue(dlq, durable=True, arguments={"x-queue-type": "quorum"})
        envelope = routed()
        await channel.default_exchange.publish(
            aio_pika.Message(envelope.to_bytes(), message_id=envelope.id), dlq
        )
    finally:
        await connection.close()
    with pytest.raises(ReplayRefused, match="no queue"):
        await letters.replay(dlq, None)
    assert [d.id for d in await letters.show(dlq)] == [envelope.id]
