"""Over RabbitMQ: routing's new events are routable (publishing is mandatory, so an event with
no bound queue would stall routing's outbox) and wait in the notifier's queues."""

from __future__ import annotations

import asyncio

import aio_pika

from dialog_contracts import AppealExtended, AppealForwarded, queue_name
from dialog_platform.bus.amqp import AmqpBus

from .conftest import RigFactory, recorded


async def waiting(rabbitmq_url: str, name: str) -> int:
    connection = await aio_pika.connect(rabbitmq_url)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(name, passive=True)
        return int(queue.declaration_result.message_count or 0)
    finally:
        await connection.close()


async def test_forward_and_extension_reach_the_notifiers_queues(
    start_rig: RigFactory, rabbitmq_url: str, bus_namespace: str
) -> None:
    rig = await start_rig(bus=AmqpBus(rabbitmq_url, namespace=bus_namespace))
    await rig.publish(recorded("a1"))  # over the broker to routing's consumer
    for _ in range(200):
        case = await rig.http.get("/api/v1/cases/a1", headers=rig.headers)
        if case.status_code == 200:
            break
        await asyncio.sleep(0.05)
    assert case.status_code == 200, case.text
    r = await rig.post(
        "/api/v1/cases/a1/forward", {"to_official_id": "akim", "reason": "r", "by": "c"}
    )
    assert r.status_code == 200, r.text
    r = await rig.post(
        "/api/v1/cases/a1/extend", {"legal_deadline": "2026-12-10", "reason": "r", "by": "c"}
    )
    assert r.status_code == 200, r.text
    await rig.settle()
    pending = await rig.ctx.outbox.collection.count_documents({"state": "pending"})
    assert pending == 0
    for event in (AppealForwarded, AppealExtended):
        name = queue_name(bus_namespace, "notifier", event)
        assert await waiting(rabbitmq_url, name) == 1, name
