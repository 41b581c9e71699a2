"""On the real broker: the applicant's name and IIN land in the dashboard's queue and in no
other consumer's."""

from __future__ import annotations

import asyncio
import json

import aio_pika

from dialog_contracts import BINDINGS, ApplicantIdentified, Envelope, queue_name
from dialog_platform.bus import AmqpBus
from dialog_platform.testing.waiting import eventually


async def test_an_applicant_event_reaches_the_dashboards_queue_only(
    rabbitmq_url: str, bus_namespace: str
) -> None:
    bus = AmqpBus(rabbitmq_url, namespace=bus_namespace, publish_timeout_s=10.0)
    await bus.start()  # declares the whole topology: every consumer's queue
    data = ApplicantIdentified(
        appeal_id="a" * 32,
        registration_number="2026-000123-7",
        full_name="Айгүл Серікқызы Нұрланова",
        iin="900101400013",
    )
    try:
        await bus.publish(Envelope.wrap(data, source="/dialog/test"), data.routing_key())
    finally:
        await bus.close()

    connection = await aio_pika.connect(rabbitmq_url)
    try:
        channel = await connection.channel()
        holding: dict[str, str] = {}

        async def look() -> bool:
            for b in BINDINGS:
                name = queue_name(bus_namespace, b.consumer, b.event)
                queue = await channel.declare_queue(name, passive=True)
                message = await queue.get(no_ack=False, fail=False)
                if message is not None:
                    holding[name] = message.body.decode()
                    await message.nack(requeue=True)
            return bool(holding)

        await eventually(look)
        await asyncio.sleep(0.5)  # anything routed elsewhere has arrived by now too
        await look()
    finally:
        await connection.close()
    expected = queue_name(bus_namespace, "dashboard", ApplicantIdentified)
    assert set(holding) == {expected}
    assert json.loads(holding[expected])["data"]["iin"] == "900101400013"
