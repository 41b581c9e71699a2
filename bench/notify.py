"""Notifier throughput: AppealRouted events through RabbitMQ into the notifier, against a bare
aio-pika consumer that makes the same SMSC call per message with the same prefetch.

Both count at the local SMSC server; duplicates and losses are counted there too.
Goal: ratio at least 0.5 with zero duplicates and zero losses.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import aio_pika
import httpx

from dialog_contracts import AppealRouted, Envelope, exchange_name
from dialog_platform.bus import AmqpBus
from dialog_platform.testing.fixtures import delete_namespace
from dialog_platform.testing.launch import Distributed
from dialog_platform.testing.servers import embedded_mongo, ensure_rabbitmq
from dialog_platform.testing.smsc import LOGIN, PASSWORD, FakeSmscServer

PREFETCH = 16
OFFICIAL_PHONE = "+77010000004"  # deputy-housing in the demo directory


def event(n: int, run: str) -> AppealRouted:
    return AppealRouted(
        appeal_id=f"{run}-{n}",
        registration_number=f"2026-{n:06d}-0",
        official_id="deputy-housing",
        addressed_official_id="deputy-housing",
        language="ru",
        control_date=date(2026, 12, 7),
        legal_deadline=date(2026, 12, 14),
        routed_at=datetime.now(UTC),
    )


async def publish_all(url: str, namespace: str, count: int, run: str) -> None:
    bus = AmqpBus(url, namespace=namespace)
    await bus.start()
    try:
        for n in range(count):
            data = event(n, run)
            await bus.publish(Envelope.wrap(data, source="/bench"), data.routing_key())
    finally:
        await bus.close()


async def wait_for(smsc: FakeSmscServer, expected: int, limit_s: float) -> float:
    started = time.perf_counter()
    while len(smsc.state.messages) < expected:
        if time.perf_counter() - started > limit_s:
            break
        await asyncio.sleep(0.05)
    return time.perf_counter() - started


async def bare_consumer(url: str, namespace: str, smsc_url: str, count: int) -> float:
    """The baseline: consume, POST to send.php, ack. No records, no idempotency."""
    connection = await aio_pika.connect(url)
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=PREFETCH)
    exchange = await channel.declare_exchange(
        exchange_name(namespace), aio_pika.ExchangeType.TOPIC, durable=True
    )
    queue = await channel.declare_queue(f"{namespace}.bare", durable=True)
    await queue.bind(exchange, AppealRouted.ROUTING_KEY)
    done = asyncio.Event()
    handled = 0
    async with httpx.AsyncClient() as http:

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal handled
            data = Envelope.from_bytes(message.body).parse(AppealRouted)
            await http.post(
                f"{smsc_url}/sys/send.php",
                data={
                    "login": LOGIN,
                    "psw": PASSWORD,
                    "fmt": "3",
                    "charset": "utf-8",
                    "phones": OFFICIAL_PHONE,
                    "mes": f"Новое обращение {data.registration_number}",
                    "id": data.appeal_id,
                },
            )
            await message.ack()
            handled += 1
            if handled >= count:
                done.set()

        # Queue everything first, as for the notifier, then time the draining.
        await publish_all(url, namespace, count, "bare")
        started = time.perf_counter()
        await queue.consume(on_message)
        await asyncio.wait_for(done.wait(), timeout=600)
        elapsed = time.perf_counter() - started
    await connection.close()
    return elapsed


async def main_async(count: int) -> None:
    rabbit = ensure_rabbitmq()
    with tempfile.TemporaryDirectory(prefix="dialog-notify-") as tmp_name, FakeSmscServer() as smsc:
        tmp = Path(tmp_name)
        with embedded_mongo(tmp / "mongo") as mongo_url:
            namespace = f"nbench{uuid.uuid4().hex[:6]}"
            cluster = Distributed(
                data_dir=tmp / "cluster",
                bus_url=rabbit,
                mongo_url=mongo_url,
                media_url="s3://x:y@127.0.0.1:9/unused",
                namespace=namespace,
                db_prefix=namespace,
                env={
                    "DIALOG_NOTIFIER_SMSC_URL": smsc.url,
                    "DIALOG_NOTIFIER_SMSC_LOGIN": LOGIN,
                    "DIALOG_NOTIFIER_SMSC_PASSWORD": PASSWORD,
                    "DIALOG_BUS_PREFETCH": str(PREFETCH),
                    "DIALOG_NOTIFIER_QUIET_START": "00:00",
                    "DIALOG_NOTIFIER_QUIET_END": "00:00",
                },
            )
            try:
                cluster.start(("routing",))
                # Queue the events first, then start the notifier, so both sides drain a full
                # queue the same way.
                await publish_all(rabbit, namespace, count, "notifier")
                started = time.perf_counter()
                cluster.start_one("notifier")
                notifier_s = await wait_for(smsc, count, limit_s=900)
                notifier_s_total = time.perf_counter() - started
                notifier_sent = list(smsc.state.messages)
            finally:
                cluster.stop()
                await delete_namespace(rabbit, namespace)
        smsc.state.messages.clear()
        bare_ns = f"nbare{uuid.uuid4().hex[:6]}"
        try:
            bare_s = await bare_consumer(rabbit, bare_ns, smsc.url, count)
        finally:
            await delete_namespace(rabbit, bare_ns)
        bare_sent = list(smsc.state.messages)

    def tally(sent: list) -> tuple[int, int]:  # type: ignore[type-arg]
        ids = collections.Counter(m.message_id for m in sent)
        return sum(c - 1 for c in ids.values() if c > 1), count - len(ids)

    n_dup, n_lost = tally(notifier_sent)
    b_dup, b_lost = tally(bare_sent)
    notifier_rate = count / notifier_s
    bare_rate = count / bare_s
    print(f"{count} AppealRouted events, prefetch {PREFETCH}, counted at the local SMSC server")
    print(f"bare aio-pika consumer:   {bare_rate:8.1f} msg/s   duplicates {b_dup}, lost {b_lost}")
    print(
        f"notifier:                 {notifier_rate:8.1f} msg/s   duplicates {n_dup}, lost {n_lost}"
        f"   (incl. start-up: {count / notifier_s_total:.1f} msg/s)"
    )
    ratio = notifier_rate / bare_rate
    ok = ratio >= 0.5 and n_dup == 0 and n_lost == 0
    print(
        f"ratio (notifier / bare):  {ratio:8.2f}   goal ≥ 0.50, no duplicates or losses: "
        f"{'met' if ok else 'NOT met'}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(main_async(args.count))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
