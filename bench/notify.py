"""Notifier throughput: AppealRouted events through RabbitMQ into the notifier, against a bare
aio-pika consumer that makes the same SMSC call per message with the same prefetch.

Both count at the local SMSC server; duplicates and losses are counted there too. The notifier
runs twice, side by side in the same run: with metrics and tracing off, and with both on (spans
exported by OTLP to a local receiver in a process of its own, as a collector is, /metrics scraped
every second).
Goals: ratio at least 0.5 with zero duplicates and zero losses; instrumented / plain at least 0.95.

A fourth drain runs with tracing sampled as a deployment at a region's volume would set it
(`OTEL_TRACES_SAMPLER=parentbased_traceidratio`, `--sample-ratio`, 0.1 by default): every SMS is
still counted in /metrics and a sampled trace is still whole, since the decision is the trace's.
Each event carries the trace context routing would stamp on it (a trace begun at the booth's
submit, sampled there), so the notifier follows the trace's decision as it does in the system.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import NamedTuple

import aio_pika
import httpx
import psutil

from dialog_contracts import AppealRouted, Envelope, exchange_name
from dialog_platform.bus import AmqpBus
from dialog_platform.testing.fixtures import delete_namespace
from dialog_platform.testing.launch import Distributed
from dialog_platform.testing.otlp import OtlpReceiverProcess
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


def traceparent(sample_ratio: float) -> str:
    """The W3C context routing's outbox would stamp on the event: a trace begun at the booth's
    submit, sampled there (by trace id, as `traceidratio` decides) at `sample_ratio`."""
    trace_id = random.getrandbits(128) or 1
    sampled = (trace_id & 0xFFFFFFFFFFFFFFFF) < round(sample_ratio * 2**64)
    return f"00-{trace_id:032x}-{random.getrandbits(64) or 1:016x}-{'01' if sampled else '00'}"


async def publish_all(
    url: str, namespace: str, count: int, run: str, sample_ratio: float = 1.0
) -> None:
    """Queue `count` events, each in a trace of its own as in the running system (the notifier
    follows the trace's decision; with tracing off it ignores the context)."""
    bus = AmqpBus(url, namespace=namespace)
    await bus.start()
    try:
        for n in range(count):
            data = event(n, run)
            envelope = Envelope.wrap(data, source="/bench").model_copy(
                update={"traceparent": traceparent(sample_ratio)}
            )
            await bus.publish(envelope, data.routing_key())
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


INSTRUMENTATION_OFF = {"DIALOG_METRICS": "false"}


class Drain(NamedTuple):
    seconds: float  # from the notifier's readiness to the last SMS
    seconds_with_start: float
    # The notifier's own CPU over `seconds`: what instrumentation adds to each SMS, less swayed
    # than the rate by what else the two cores are doing (the database server, the broker).
    cpu_seconds: float
    sent: list  # type: ignore[type-arg]


async def scrape_every_second(url: str, stop: asyncio.Event) -> int:
    """What Prometheus would do (more often than its usual 15-30 s); returns the scrapes made."""
    scrapes = 0
    async with httpx.AsyncClient(timeout=5) as http:
        while not stop.is_set():
            with contextlib.suppress(httpx.HTTPError):
                await http.get(f"{url}/metrics")
                scrapes += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1.0)
    return scrapes


async def run_notifier(
    rabbit: str,
    mongo_url: str,
    tmp: Path,
    smsc: FakeSmscServer,
    count: int,
    env: dict[str, str],
    sample_ratio: float = 1.0,
) -> Drain:
    """Drain `count` queued AppealRouted events through a notifier started with `env`."""
    namespace = f"nbench{uuid.uuid4().hex[:6]}"
    smsc.state.messages.clear()
    cluster = Distributed(
        data_dir=tmp / namespace,
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
            **env,
        },
    )
    try:
        cluster.start(("routing",))
        # Queue the events first, then start the notifier, so both sides drain a full
        # queue the same way.
        await publish_all(rabbit, namespace, count, "notifier", sample_ratio)
        started = time.perf_counter()
        notifier = cluster.start_one("notifier")
        process = psutil.Process(notifier.popen.pid)
        cpu_at_ready = sum(process.cpu_times()[:2])
        stop = asyncio.Event()
        scraper = asyncio.create_task(scrape_every_second(notifier.url, stop))
        drained_s = await wait_for(smsc, count, limit_s=900)
        total_s = time.perf_counter() - started
        cpu_s = sum(process.cpu_times()[:2]) - cpu_at_ready
        stop.set()
        await scraper
        return Drain(drained_s, total_s, cpu_s, list(smsc.state.messages))
    finally:
        cluster.stop()
        await delete_namespace(rabbit, namespace)


async def run_bare(rabbit: str, smsc: FakeSmscServer, count: int) -> tuple[float, list]:  # type: ignore[type-arg]
    smsc.state.messages.clear()
    bare_ns = f"nbare{uuid.uuid4().hex[:6]}"
    try:
        bare_s = await bare_consumer(rabbit, bare_ns, smsc.url, count)
    finally:
        await delete_namespace(rabbit, bare_ns)
    return bare_s, list(smsc.state.messages)


async def main_async(count: int, rounds: int, sample_ratio: float) -> None:
    rabbit = ensure_rabbitmq()
    receiver = OtlpReceiverProcess().start()
    instrumented = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint}
    sampled = {
        **instrumented,
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": str(sample_ratio),
    }
    drains: dict[str, list[Drain]] = {"plain": [], "on": [], "sampled": []}
    bare_runs: list[float] = []
    # Duplicates and losses, summed over the rounds.
    faults = {kind: [0, 0] for kind in ("plain", "on", "sampled", "bare")}

    def tally(kind: str, sent: list) -> None:  # type: ignore[type-arg]
        ids = collections.Counter(m.message_id for m in sent)
        faults[kind][0] += sum(c - 1 for c in ids.values() if c > 1)
        faults[kind][1] += count - len(ids)

    settings = {
        "plain": (INSTRUMENTATION_OFF, 1.0),
        "on": (instrumented, 1.0),
        "sampled": (sampled, sample_ratio),
    }
    with tempfile.TemporaryDirectory(prefix="dialog-notify-") as tmp_name, FakeSmscServer() as smsc:
        tmp = Path(tmp_name)
        with embedded_mongo(tmp / "mongo") as mongo_url:
            # Interleaved, the order turned each round, and the medians compared: a machine
            # whose load drifts during the run weighs on all of them alike.
            for n in range(rounds):
                order = ["plain", "on", "sampled", "bare"]
                if n % 2:
                    order.reverse()
                for kind in order:
                    if kind == "bare":
                        bare_s, sent = await run_bare(rabbit, smsc, count)
                        bare_runs.append(bare_s)
                    else:
                        env, ratio = settings[kind]
                        drain = await run_notifier(rabbit, mongo_url, tmp, smsc, count, env, ratio)
                        drains[kind].append(drain)
                        sent = drain.sent
                    tally(kind, sent)
                print(
                    f"round {n + 1}: bare {count / bare_runs[-1]:.1f}, "
                    + ", ".join(
                        f"{kind} {count / runs[-1].seconds:.1f} msg/s "
                        f"({runs[-1].cpu_seconds / count * 1000:.2f} ms CPU/SMS)"
                        for kind, runs in drains.items()
                    ),
                    flush=True,
                )
    # Both instrumented drains export to the one receiver.
    spans = receiver.stop() // rounds

    def rate(kind: str) -> float:
        return count / statistics.median(d.seconds for d in drains[kind])

    def cpu_ms(kind: str) -> float:
        return statistics.median(d.cpu_seconds for d in drains[kind]) / count * 1000

    def clean(kind: str) -> bool:
        return faults[kind] == [0, 0]

    notifier_rate = count / statistics.median(d.seconds for d in drains["plain"])
    bare_rate = count / statistics.median(bare_runs)
    with_start = count / statistics.median(d.seconds_with_start for d in drains["plain"])
    print(
        f"{count} AppealRouted events, prefetch {PREFETCH}, counted at the local SMSC server; "
        f"medians of {rounds} interleaved rounds"
    )
    b_dup, b_lost = faults["bare"]
    print(f"bare aio-pika consumer:   {bare_rate:8.1f} msg/s   duplicates {b_dup}, lost {b_lost}")
    n_dup, n_lost = faults["plain"]
    print(
        f"notifier:                 {notifier_rate:8.1f} msg/s   duplicates {n_dup}, lost {n_lost}"
        f"   (incl. start-up: {with_start:.1f} msg/s; {cpu_ms('plain'):.2f} ms CPU/SMS)"
    )
    ratio = notifier_rate / bare_rate
    print(
        f"ratio (notifier / bare):  {ratio:8.2f}   goal ≥ 0.50, no duplicates or losses: "
        f"{'met' if ratio >= 0.5 and clean('plain') else 'NOT met'}"
    )
    labels = {
        "on": ("metrics + tracing on", "instrumented / plain"),
        "sampled": (f"metrics + tracing sampled at {sample_ratio:g}", "sampled / plain"),
    }
    for kind, (label, ratio_label) in labels.items():
        dup, lost = faults[kind]
        extra = f"   ({spans} spans a round received by OTLP, both drains)" if kind == "on" else ""
        print(
            f"notifier, {label}: {rate(kind):8.1f} msg/s   duplicates {dup}, lost {lost}   "
            f"{cpu_ms(kind):.2f} ms CPU/SMS{extra}"
        )
        by_rate = rate(kind) / notifier_rate
        by_cpu = cpu_ms("plain") / cpu_ms(kind)
        print(
            f"ratio ({ratio_label}): {by_rate:6.2f} by rate, {by_cpu:.2f} by the notifier's CPU "
            f"per SMS   goal ≥ 0.95: {'met' if by_rate >= 0.95 and clean(kind) else 'NOT met'}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (3)")
    parser.add_argument("--sample-ratio", type=float, default=0.1, help="the sampled drain's")
    args = parser.parse_args()
    asyncio.run(main_async(args.count, args.rounds, args.sample_ratio))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
