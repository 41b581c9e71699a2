"""End to end under load: what a citizen and an official wait for, at stepped appeal rates.

Simulated booths (each its own kiosk registration and, in distributed mode, its own
printer-agent process, as in the field) send appeals through the booth API as the booth page
does (create, then upload + submit) at open-loop Poisson arrivals, one step per rate, stopping
after the step where a p95 passes 5 s. An official's stand-in answers a share of the appeals
through the dashboard. Per appeal:

- wait:     the booth's wait, upload + submit until the number is on screen;
- receipt:  submit until the receipt's PNG appears in the booth printer's folder;
- official: submit until the SMSC stand-in accepted the official's SMS;
- receipt·ev, official·ev: the same from the submit's answer (the registration committed), so
  the event path alone, without the submit's own access-code hash and transaction;
- citizen:  answer posted until the SMSC stand-in accepted the citizen's SMS.

Beside each step, the same hops as bare aio-pika publish/consume chains on the same RabbitMQ
(gateway → printer, gateway → routing → notifier; persistent messages, durable queues,
publisher confirms, event-sized bodies), at the same rate, so the event path's overhead is a
ratio. Also printed: CPU seconds per appeal of each process, resident memory of each, and the
capacity (the largest rate at which every p95 stays under 2 s).

Run on a quiet machine: the figures are only as good as the cores they had.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psutil

from dialog_platform.net import free_port
from dialog_platform.testing.dashboard import KEEPALIVE_S, Official
from dialog_platform.testing.faults import (
    NUMBER,
    FaultConfig,
    PrivateRabbit,
    ReceiptWatch,
    cluster_env,
    stop_all,
)
from dialog_platform.testing.launch import (
    Distributed,
    Process,
    SingleProcess,
    run_cli,
    start_process,
    wait_ready,
)
from dialog_platform.testing.servers import embedded_server, ensure_rabbitmq, s3_media_url
from dialog_platform.testing.smsc import FakeSmsc, FakeSmscServer

sys.path.insert(0, str(Path(__file__).parent))
from upload import moto_process  # moto in its own process, objects in memory

MB = 1_000_000
HOPS = ("wait", "receipt", "official", "citizen")
# The same two outcomes from the booth's receipt number on screen, that is from the
# registration's commit: what is left is the event path (outbox, broker, consumer, and the
# printer's drawing or the SMSC's answer), without the submit's own Argon2 hash and transaction.
AFTER = {"receipt": "receipt·ev", "official": "official·ev"}
GOAL_P95_S = 2.0
STOP_P95_S = 5.0
# The booth records 1280×720 at 1.5 Mbit/s (recorder.js): two minutes are about 23 MB.
REAL_SECONDS = 120
REAL_BYTES = 23 * MB
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dialog-bench"


class TimedSmsc(FakeSmsc):
    """The SMSC stand-in, noting when it accepted each message."""

    def __init__(self) -> None:
        super().__init__()
        self.accepted_at: list[float] = []

    def handle(self, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        answer = super().handle(path, form)
        with self.lock:
            while len(self.accepted_at) < len(self.messages):
                self.accepted_at.append(time.monotonic())
        return answer


@dataclass
class Appeal:
    booth: int
    phone: str
    official_id: str
    video: str
    answer: bool
    started: float = 0.0
    submitted: float = 0.0
    numbered: float = 0.0
    number: str | None = None
    appeal_id: str | None = None
    answered: float | None = None
    error: str = ""


@dataclass
class Step:
    rate: float
    video: str
    appeals: list[Appeal]
    seconds: dict[str, list[float]] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    rss_mb: dict[str, float] = field(default_factory=dict)
    bare: dict[str, list[float]] = field(default_factory=dict)

    def p(self, hop: str, q: float) -> float | None:
        values = sorted(self.seconds.get(hop, []))
        if not values:
            return None
        # Missing outcomes count as slower than any measured one.
        values += [float("inf")] * self.missing.get(hop, 0)
        return values[min(len(values) - 1, int(q * len(values)))]

    def ok(self, limit: float) -> bool:
        return all((self.p(h, 0.95) or 0.0) < limit for h in HOPS if self.seconds.get(h))


def booth_video(kind: str, tmp: Path) -> bytes:
    from dialog_platform.testing.webm import make_webm, make_webm_of_size

    if kind == "small":
        return make_webm(tmp / "small.webm", seconds=2, width=96, height=72, fps=5).read_bytes()
    CACHE.mkdir(parents=True, exist_ok=True)
    cached = CACHE / f"booth-{REAL_SECONDS}s-1280x720-{REAL_BYTES // MB}MB.webm"
    if not cached.exists():
        print(f"making the booth's {REAL_SECONDS} s 1280×720 WebM (once, cached) …", flush=True)
        made = make_webm_of_size(
            CACHE / "partial.webm", REAL_BYTES, seconds=REAL_SECONDS, width=1280, height=720
        )
        made.rename(cached)
    return cached.read_bytes()


# -- the system -------------------------------------------------------------------------------


def system_env(smsc_url: str) -> dict[str, str]:
    env = cluster_env(smsc_url, FaultConfig(notify_citizen_on_record=False))
    # The fault runs' 2 MB cap would refuse the booth's real videos: the services' own limits.
    env.pop("DIALOG_KIOSK_GATEWAY_MAX_VIDEO_BYTES")
    env.pop("DIALOG_MEDIA_STORE_MAX_BYTES")
    return {**env, "DIALOG_METRICS": "false"}


@dataclass
class Running:
    gateway: str
    dashboard: str
    routing: str
    cli_env: dict[str, str]
    receipts: list[Path]
    pids: dict[str, int]
    kiosks: list[tuple[str, str]]
    rabbit: str
    s3: str | None = None
    rss_warm: dict[str, float] = field(default_factory=dict)


@contextlib.contextmanager
def distributed(tmp: Path, booths: int, smsc_url: str, rabbit: str) -> Iterator[Running]:
    namespace = f"e2e{uuid.uuid4().hex[:6]}"
    with embedded_server(tmp / "mongo") as mongo, moto_process() as s3:
        mongo_url = mongo.url
        cluster = Distributed(
            data_dir=tmp / "cluster",
            bus_url=rabbit,
            mongo_url=mongo_url,
            media_url=s3_media_url(s3, "e2e"),
            namespace=namespace,
            db_prefix=namespace,
            env=system_env(smsc_url),
        )
        printers: list[Process] = []
        try:
            cluster.start(("routing", "media-store", "kiosk-gateway", "notifier", "dashboard"))
            kiosks = []
            receipts = []
            for n in range(booths):
                kiosk_id = f"booth-{n:03d}"
                kiosks.append((kiosk_id, cluster.kiosk_add(kiosk_id, f"Бенчмарк / Бенчмарк {n}")))
                # Each booth's own printer-agent, as in the field.
                data = tmp / "printers" / kiosk_id
                env = {
                    **cluster.base_env(),
                    "DIALOG_DATA_DIR": str(data),
                    "DIALOG_PRINTER_AGENT_KIOSK_ID": kiosk_id,
                }
                port = free_port()
                printer = start_process(
                    f"printer-{kiosk_id}",
                    ["--target", "printer-agent"],
                    env,
                    tmp / "cluster" / "logs",
                    port,
                )
                printers.append(printer)
                receipts.append(data / "receipts")
            for printer in printers:
                wait_ready(printer)
            pids = {name: p.popen.pid for name, p in cluster.processes.items()}
            pids["printer-agents (all)"] = -1
            pids["S3 server"] = _moto_pid()
            assert mongo.process is not None
            pids["MongoDB-wire server"] = mongo.process.pid
            if broker := _broker_pid(rabbit):
                pids["RabbitMQ"] = broker
            pids["bench client"] = os.getpid()
            running = Running(
                gateway=cluster.url("kiosk-gateway"),
                dashboard=cluster.url("dashboard"),
                routing=cluster.url("routing"),
                cli_env=cluster.cli_env(),
                receipts=receipts,
                pids=pids,
                kiosks=kiosks,
                rabbit=rabbit,
                s3=s3,
            )
            running.printer_pids = [p.popen.pid for p in printers]  # type: ignore[attr-defined]
            yield running
        finally:
            for printer in printers:
                printer.stop()
            stop_all(cluster)
            from dialog_platform.testing.fixtures import delete_namespace

            with contextlib.suppress(Exception):
                asyncio.run(delete_namespace(rabbit, namespace))


def _broker_pid(url: str) -> int | None:
    """The Erlang VM of the RabbitMQ node at `url`: it shares the cores with the services."""
    port = urlsplit(url).port or 5672
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] != "beam.smp":
            continue
        with contextlib.suppress(psutil.Error):
            if any(c.laddr.port == port for c in proc.net_connections("tcp") if not c.raddr):
                return int(proc.pid)
    return None


def _moto_pid() -> int:
    from upload import MOTO_PID

    pid: int = MOTO_PID[-1]
    return pid


@contextlib.contextmanager
def one_process(tmp: Path, booths: int, smsc_url: str, rabbit: str) -> Iterator[Running]:
    runner = SingleProcess(data_dir=tmp / "single", env=system_env(smsc_url))
    started = time.monotonic()
    runner.start()
    ready_s = time.monotonic() - started
    try:
        kiosks = [
            (f"booth-{n:03d}", runner.kiosk_add(f"booth-{n:03d}", f"Бенчмарк / Бенчмарк {n}"))
            for n in range(booths)
        ]
        assert runner.process is not None
        running = Running(
            gateway=runner.url,
            dashboard=runner.url,
            routing=runner.url,
            cli_env=runner.cli_env(),
            receipts=[tmp / "single" / "receipts"],
            pids=_one_process_pids(runner.process.popen.pid),
            kiosks=kiosks,
            rabbit=rabbit,
        )
        running.ready_s = ready_s  # type: ignore[attr-defined]
        running.pids["bench client"] = os.getpid()
        yield running
    finally:
        runner.stop()


def _procs(pid: int, *, children: bool) -> list[psutil.Process]:
    try:
        proc = psutil.Process(pid)
        return [proc, *proc.children(recursive=True)] if children else [proc]
    except psutil.Error:
        return []


def cpu_of(pid: int, *, children: bool) -> float:
    total = 0.0
    for p in _procs(pid, children=children):
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            total += t.user + t.system
    return total


def rss_of(pid: int, *, children: bool) -> float:
    total = 0
    for p in _procs(pid, children=children):
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total / (1024 * 1024)


def sample(running: Running, measure: Any) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, pid in running.pids.items():
        if pid == -1:
            pids = getattr(running, "printer_pids", [])
            out[name] = sum(measure(p, children=False) for p in pids)
        else:
            out[name] = measure(pid, children=False)
    return out


ONE_PROCESS = "dialog run"
ITS_SERVER = "  its MongoDB-wire server"


def _one_process_pids(pid: int) -> dict[str, int]:
    """The one process and the embedded MongoDB-wire server it started as its child."""
    pids = {ONE_PROCESS: pid}
    for child in _procs(pid, children=True)[1:]:
        with contextlib.suppress(psutil.Error):
            if "dialog_platform.embedded" in " ".join(child.cmdline()):
                pids[ITS_SERVER] = child.pid
    return pids


# -- the booths and the official ----------------------------------------------------------------


async def make_appeal(
    http: httpx.AsyncClient, running: Running, appeal: Appeal, video: bytes
) -> None:
    _kiosk_id, token = running.kiosks[appeal.booth]
    auth = {"Authorization": f"Bearer {token}"}
    try:
        created = await http.post(
            f"{running.gateway}/api/v1/appeals",
            headers=auth,
            json={
                "official_id": appeal.official_id,
                "phone": appeal.phone,
                "language": "kk",
                "category": "question",
                "consent": True,
                "full_name": "Айгүл Серікқызы Нұрланова",
                "iin": "900101400013",
            },
        )
        created.raise_for_status()
        body = created.json()
        appeal.appeal_id = body["appeal_id"]
        # "Send": the recording is done; what the citizen waits for starts here.
        appeal.started = time.monotonic()
        uploaded = await http.put(
            f"{running.gateway}{body['upload_url']}",
            content=video,
            headers={**auth, "Content-Type": "video/webm"},
        )
        uploaded.raise_for_status()
        appeal.submitted = time.monotonic()
        submitted = await http.post(f"{running.gateway}{body['submit_url']}", headers=auth)
        submitted.raise_for_status()
        appeal.numbered = time.monotonic()
        appeal.number = str(submitted.json()["registration_number"])
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        appeal.error = f"{type(exc).__name__}: {exc}"[:200]


async def answer_when_told(
    officials: dict[str, Official], appeal: Appeal, smsc: TimedSmsc, deadline: float
) -> None:
    """The official opens the case once their SMS is in, and answers it."""
    if appeal.number is None or appeal.appeal_id is None:
        return
    # Polled: the SMS comes from another process through the stand-in's HTTP server.
    while time.monotonic() < deadline:
        with smsc.lock:
            if any(appeal.number in m.text for m in smsc.messages):
                break
        await asyncio.sleep(0.2)
    try:
        await officials[appeal.official_id].answer(
            appeal.appeal_id, "Сіздің өтінішіңіз қаралды. Ваше обращение рассмотрено.", wait_s=30
        )
        appeal.answered = time.monotonic()
    except AssertionError as exc:
        appeal.error = f"answer: {exc}"[:200]


async def citizen_and_official(
    http: httpx.AsyncClient,
    running: Running,
    appeal: Appeal,
    video: bytes,
    officials: dict[str, Official],
    smsc: TimedSmsc,
) -> None:
    await make_appeal(http, running, appeal, video)
    if appeal.answer:
        await answer_when_told(officials, appeal, smsc, time.monotonic() + 90)


# -- bare aio-pika ------------------------------------------------------------------------------


async def bare_chain(url: str, rate: float, seconds: float, size: int, hops: int) -> list[float]:
    """Latencies of `hops` chained durable queues, persistent and confirmed, at `rate`/s."""
    import aio_pika

    prefix = f"e2e-bare-{uuid.uuid4().hex[:6]}"
    connection = await aio_pika.connect_robust(url)
    latencies: list[float] = []
    done = asyncio.Event()
    expected = 0
    try:
        channel = await connection.channel(publisher_confirms=True)
        queues = [await channel.declare_queue(f"{prefix}-{i}", durable=True) for i in range(hops)]
        body = b"x" * size

        async def relay(i: int, message: aio_pika.abc.AbstractIncomingMessage) -> None:
            # Each service consumes, does its part, publishes the next event, then acks.
            if i + 1 < hops:
                await channel.default_exchange.publish(
                    aio_pika.Message(
                        message.body,
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        headers=message.headers,
                    ),
                    routing_key=queues[i + 1].name,
                )
            else:
                sent = float(str((message.headers or {})["sent"]))
                latencies.append(time.monotonic() - sent)
                if len(latencies) >= expected:
                    done.set()
            await message.ack()

        tags = [
            (queue, await queue.consume(functools.partial(relay, i)))
            for i, queue in enumerate(queues)
        ]
        rng = random.Random(7)
        end = time.monotonic() + seconds
        next_at = time.monotonic()
        publishes = []
        while next_at < end:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            expected += 1
            message = aio_pika.Message(
                body,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                headers={"sent": str(time.monotonic())},
            )
            publishes.append(
                asyncio.ensure_future(
                    channel.default_exchange.publish(message, routing_key=queues[0].name)
                )
            )
            next_at += rng.expovariate(rate)
        await asyncio.gather(*publishes)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), 30)
        for queue, tag in tags:
            await queue.cancel(tag)
            await queue.delete(if_unused=False, if_empty=False)
    finally:
        await connection.close()
    return latencies


def s3_ingest(endpoint: str, video: bytes) -> float:
    """MB/s the S3 server takes from 4 direct put_object calls at once (minio's defaults)."""
    import concurrent.futures
    import io

    from minio import Minio

    client = Minio(endpoint, access_key="testing", secret_key="testing-secret", secure=False)
    if not client.bucket_exists("e2e-ingest"):
        client.make_bucket("e2e-ingest")

    def put(n: int) -> None:
        client.put_object(
            "e2e-ingest", f"v{n}.webm", io.BytesIO(video), len(video), part_size=8 * 1024 * 1024
        )

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        started = time.perf_counter()
        list(pool.map(put, range(8)))
        elapsed = time.perf_counter() - started
    for n in range(8):
        client.remove_object("e2e-ingest", f"v{n}.webm")
    return 8 * len(video) / MB / elapsed


# -- a step -------------------------------------------------------------------------------------


def booths_client() -> httpx.AsyncClient:
    limits = httpx.Limits(
        max_connections=None, max_keepalive_connections=200, keepalive_expiry=KEEPALIVE_S
    )
    return httpx.AsyncClient(timeout=120, limits=limits)


async def settle(step: Step, smsc: TimedSmsc, watch: list[ReceiptWatch], sms_from: int) -> None:
    """Wait for everything still on its way: receipts and SMS, up to 60 s."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not outcomes_complete(  # noqa: ASYNC110
        step, smsc, watch, sms_from
    ):
        await asyncio.sleep(0.5)


async def run_step(
    running: Running,
    smsc: TimedSmsc,
    watch: list[ReceiptWatch],
    officials: dict[str, Official],
    step: Step,
    video: bytes,
    seconds: float,
    answer_share: float,
    rng: random.Random,
    official_ids: list[str],
    official_phones: dict[str, str],
    counter: list[int],
) -> None:
    async with booths_client() as http:
        cpu_before = sample(running, cpu_of)
        with smsc.lock:
            sms_from = len(smsc.messages)
        tasks: list[asyncio.Task[None]] = []
        end = time.monotonic() + seconds
        next_at = time.monotonic()
        while next_at < end:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            counter[0] += 1
            appeal = Appeal(
                booth=rng.randrange(len(running.kiosks)),
                phone=f"+7707{counter[0]:07d}",
                official_id=rng.choice(official_ids),
                video=step.video,
                answer=rng.random() < answer_share,
            )
            step.appeals.append(appeal)
            tasks.append(
                asyncio.create_task(
                    citizen_and_official(http, running, appeal, video, officials, smsc)
                )
            )
            next_at += rng.expovariate(step.rate)
        step.rss_mb = sample(running, rss_of)  # under load, at the end of the arrivals
        # The bare chains run after the step, on the same broker, at the same rate.
        await asyncio.gather(*tasks)
        await settle(step, smsc, watch, sms_from)
        step.cpu = {
            name: after - cpu_before[name] for name, after in sample(running, cpu_of).items()
        }
        tally(step, smsc, watch, sms_from, official_phones)
    size = len(json.dumps({"appeal_id": "x" * 26, "registration_number": "0000-000000-0"}))
    bare_s = min(seconds, 10)
    step.bare["receipt"] = await bare_chain(running.rabbit, step.rate, bare_s, max(size, 600), 1)
    step.bare["official"] = await bare_chain(running.rabbit, step.rate, bare_s, max(size, 600), 2)


def receipt_times(watch: list[ReceiptWatch]) -> dict[str, float]:
    """First time each receipt was seen, by registration number, on the monotonic clock."""
    now_wall = time.time()
    now_mono = time.monotonic()
    seen: dict[str, float] = {}
    for w in watch:
        for name, versions in w.snapshot().items():
            if versions:
                seen[name.removesuffix("-1")] = versions[0].timestamp() - now_wall + now_mono
    return seen


def outcomes_complete(
    step: Step, smsc: TimedSmsc, watch: list[ReceiptWatch], sms_from: int
) -> bool:
    numbered = [a for a in step.appeals if a.number]
    receipts = receipt_times(watch)
    with smsc.lock:
        texts = [m.text for m in smsc.messages[sms_from:]]
        phones = {m.phone for m in smsc.messages[sms_from:]}
    told = {found.group(0) for t in texts if (found := NUMBER.search(t))}
    return all(
        a.number in receipts and a.number in told and (a.answered is None or a.phone in phones)
        for a in numbered
    )


def tally(
    step: Step,
    smsc: TimedSmsc,
    watch: list[ReceiptWatch],
    sms_from: int,
    official_phones: dict[str, str],
) -> None:
    receipts = receipt_times(watch)
    official_at: dict[str, float] = {}
    citizen_at: dict[str, float] = {}
    with smsc.lock:
        for m, at in zip(smsc.messages[sms_from:], smsc.accepted_at[sms_from:], strict=False):
            found = NUMBER.search(m.text)
            if m.phone in official_phones.values() and found:
                official_at.setdefault(found.group(0), at)
            else:
                citizen_at.setdefault(m.phone, at)
    seconds: dict[str, list[float]] = {h: [] for h in (*HOPS, *AFTER.values())}
    missing = dict.fromkeys((*HOPS, *AFTER.values()), 0)
    for a in step.appeals:
        if a.number is None:
            missing["wait"] += 1
            continue
        seconds["wait"].append(a.numbered - a.started)
        for hop, arrived in (
            ("receipt", receipts.get(a.number)),
            ("official", official_at.get(a.number)),
        ):
            if arrived is None:
                missing[hop] += 1
                missing[AFTER[hop]] += 1
            else:
                seconds[hop].append(max(0.0, arrived - a.submitted))
                seconds[AFTER[hop]].append(max(0.0, arrived - a.numbered))
        if a.answered is not None:
            told = citizen_at.get(a.phone)
            if told is None:
                missing["citizen"] += 1
            else:
                seconds["citizen"].append(max(0.0, told - a.answered))
    step.seconds, step.missing = seconds, missing


def fmt(v: float | None) -> str:
    if v is None:
        return "    –"
    return "  inf" if v == float("inf") else f"{v:5.2f}"


def report(step: Step) -> None:
    n = len(step.appeals)
    errors = [a.error for a in step.appeals if a.error]
    print(f"\n== {step.rate:g} appeals/s, {step.video} videos: {n} appeals, {len(errors)} failed")
    for e in errors[:3]:
        print(f"   failure: {e}")
    print("   hop            n   p50   p95   p99  missing")
    for hop in (*HOPS, *AFTER.values()):
        vals = step.seconds.get(hop, [])
        print(
            f"   {hop:11s} {len(vals):4d} {fmt(step.p(hop, 0.5))} {fmt(step.p(hop, 0.95))} "
            f"{fmt(step.p(hop, 0.99))}  {step.missing.get(hop, 0)}"
        )
    for hop, bare in step.bare.items():
        if not bare:
            continue
        bare95 = sorted(bare)[int(0.95 * (len(bare) - 1))]
        ours = step.p(hop, 0.95)
        ratio = f"{ours / bare95:7.1f}×" if ours and bare95 > 0 and ours != float("inf") else "   –"
        hops = "gateway → printer" if hop == "receipt" else "gateway → routing → notifier"
        after = step.p(AFTER[hop], 0.95)
        event = f"{after / bare95:6.1f}×" if after and after != float("inf") else "   –"
        print(
            f"   bare aio-pika {hops:30s} p95 {bare95 * 1000:7.1f} ms; {hop} p95 / bare p95 {ratio}"
            f"; {AFTER[hop]} p95 / bare p95 {event}"
        )
    done = max(1, sum(1 for a in step.appeals if a.number))
    print("   CPU s per appeal, RSS MB at the end of arrivals:")
    for name, cpu in step.cpu.items():
        print(f"     {name:34s} {cpu / done:7.3f}   {step.rss_mb.get(name, 0):7.1f}")


# -- main ---------------------------------------------------------------------------------------


async def warm_up(
    count: int,
    running: Running,
    smsc: TimedSmsc,
    watch: list[ReceiptWatch],
    officials: dict[str, Official],
    video: bytes,
    rng: random.Random,
) -> None:
    """`count` appeals one after another, then the memory once every outcome has arrived.

    The first appeals load what no start loads (the decoders a probe meets, a receipt's
    fonts and their pages): memory from here to the end is what the load itself kept.
    """
    step = Step(rate=0, video="small", appeals=[])
    with smsc.lock:
        sms_from = len(smsc.messages)
    async with booths_client() as http:
        for n in range(count):
            appeal = Appeal(
                booth=rng.randrange(len(running.kiosks)),
                phone=f"+7706{n:07d}",
                official_id=rng.choice(list(officials)),
                video="small",
                answer=False,
            )
            step.appeals.append(appeal)
            await citizen_and_official(http, running, appeal, video, officials, smsc)
    await settle(step, smsc, watch, sms_from)
    running.rss_warm = sample(running, rss_of)


async def drive(args: argparse.Namespace, running: Running, smsc: TimedSmsc) -> list[Step]:
    watch = [ReceiptWatch(d).start() for d in running.receipts]
    steps: list[Step] = []
    rng = random.Random(args.seed)
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            auth = {"Authorization": f"Bearer {running.kiosks[0][1]}"}
            listed = (await http.get(f"{running.gateway}/api/v1/officials", headers=auth)).json()
            official_ids = [o["id"] for o in listed["officials"]][: args.officials]
            from dialog_platform.internal import HEADER, token_for
            from dialog_platform.testing.launch import TEST_SECRET

            internal = {HEADER: token_for(TEST_SECRET)}
            phones = {}
            for oid in official_ids:
                contact = await http.get(
                    f"{running.routing}/api/v1/directory/officials/{oid}/contact",
                    headers=internal,
                )
                contact.raise_for_status()
                phones[oid] = contact.json()["phone"]
        officials: dict[str, Official] = {}
        for oid in official_ids:
            login = f"bench-{oid}"
            out = run_cli(
                ["user", "add", login, "--role", "official", "--official", oid], running.cli_env
            )
            official = Official(running.dashboard, timeout=60)
            await official.login(login, out.strip().splitlines()[-1])
            officials[oid] = official
        videos = {"small": booth_video("small", Path(args.tmp))}
        plan = [(rate, "small") for rate in args.rates]
        plan += [(rate, "real") for rate in args.real_rates]
        if args.real_rates:
            videos["real"] = booth_video("real", Path(args.tmp))
            if running.s3:
                ingest = await asyncio.to_thread(s3_ingest, running.s3, videos["real"])
                print(
                    f"S3 server's own ingest: {ingest:.1f} MB/s (4 put_object at once): at most "
                    f"{ingest * MB / len(videos['real']):.2f} real appeals/s; goal ≥ 0.8× that"
                )
        counter = [0]
        if args.warm_appeals:
            await warm_up(args.warm_appeals, running, smsc, watch, officials, videos["small"], rng)
            counter[0] = args.warm_appeals
        stopped: set[str] = set()
        for rate, kind in plan:
            if kind in stopped:
                continue
            step = Step(rate=rate, video=kind, appeals=[])
            print(f"step: {rate:g}/s with {kind} videos …", flush=True)
            await run_step(
                running,
                smsc,
                watch,
                officials,
                step,
                videos[kind],
                args.real_seconds if kind == "real" else args.seconds,
                args.answer_share,
                rng,
                official_ids,
                phones,
                counter,
            )
            report(step)
            steps.append(step)
            if not step.ok(STOP_P95_S):
                stopped.add(kind)
                print(f"   a p95 passed {STOP_P95_S:g} s: no faster {kind} step")
        for official in officials.values():
            await official.client.aclose()
    finally:
        for w in watch:
            w.stop()
    return steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("distributed", "one-process"), default="distributed")
    parser.add_argument(
        "--rates",
        type=lambda s: [float(x) for x in s.split(",") if x],
        default=[1, 3, 10, 20, 30],
        help="small-video steps, appeals a second",
    )
    parser.add_argument(
        "--real-rates",
        type=lambda s: [float(x) for x in s.split(",") if x],
        default=[],
        help="steps with the booth's real 2-minute videos",
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="arrivals per step")
    parser.add_argument("--real-seconds", type=float, default=10.0, help="arrivals per real step")
    parser.add_argument("--booths", type=int, default=10)
    parser.add_argument("--officials", type=int, default=3)
    parser.add_argument("--answer-share", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--warm-appeals",
        type=int,
        default=30,
        help="appeals one by one before the steps; memory is also sampled after them",
    )
    parser.add_argument(
        "--broker",
        choices=("shared", "private"),
        default="shared",
        help="the machine's RabbitMQ on 5672, or a node of the run's own",
    )
    args = parser.parse_args()

    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    tmp = Path(tempfile.mkdtemp(prefix="dialog-e2e-"))
    args.tmp = str(tmp)
    state = TimedSmsc()
    try:
        with contextlib.ExitStack() as stack:
            if args.broker == "private":
                node = PrivateRabbit(tmp / "rabbitmq")
                stack.callback(node.stop)
                node.start()
                rabbit = node.url
            else:
                rabbit = ensure_rabbitmq()
            smsc = stack.enter_context(FakeSmscServer(state=state))
            start = distributed if args.mode == "distributed" else one_process
            print(f"starting the system ({args.mode}, {args.booths} booths) …", flush=True)
            running = stack.enter_context(start(tmp, args.booths, smsc.url, rabbit))
            rss_start = sample(running, rss_of)
            if hasattr(running, "ready_s"):
                print(f"dialog run: /readyz 200 after {running.ready_s:.2f} s")
            steps = asyncio.run(drive(args, running, state))
            rss_end = sample(running, rss_of)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nsummary ({args.mode}; noisy if the machine is shared):")
    made = sum(1 for s in steps for a in s.appeals if a.number)
    warm = args.warm_appeals
    rss_warm = running.rss_warm
    print(
        f"  resident memory (MB) after start → after {warm} appeals one by one → "
        f"after {made + warm} appeals:"
    )
    rows = [
        (name, before, rss_warm.get(name, 0.0), rss_end.get(name, 0.0))
        for name, before in rss_start.items()
    ]
    if ITS_SERVER in rss_start:
        pair = [
            rss.get(ONE_PROCESS, 0.0) + rss.get(ITS_SERVER, 0.0)
            for rss in (rss_start, rss_warm, rss_end)
        ]
        rows.append(("dialog run with its server (goal)", pair[0], pair[1], pair[2]))
    for name, before, warmed, after in rows:
        if name != "bench client":
            growth = (after - before) / before * 100 if before else 0.0
            since = (after - warmed) / warmed * 100 if warmed else 0.0
            print(
                f"    {name:34s} {before:7.1f} → {warmed:7.1f} → {after:7.1f}  "
                f"({growth:+.0f} % since start, {since:+.0f} % since the {warm}th)"
            )
    for kind in ("small", "real"):
        ran = [s for s in steps if s.video == kind]
        if not ran:
            continue
        good = [s.rate for s in ran if s.ok(GOAL_P95_S)]
        print(
            f"  capacity with {kind} videos (largest rate, every p95 < {GOAL_P95_S:g} s): "
            f"{max(good):g}/s"
            if good
            else f"  capacity with {kind} videos: below {ran[0].rate:g}/s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
