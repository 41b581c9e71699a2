"""A fault run from start to end: start everything, make the appeals while killing, let the
system settle, audit; everything started is stopped again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from ..launch import SERVICES, Distributed
from ..servers import embedded_mongo, ensure_rabbitmq, moto_s3, s3_media_url
from ..smsc import LOGIN as SMSC_LOGIN
from ..smsc import PASSWORD as SMSC_PASSWORD
from ..smsc import FakeSmscServer
from .audit import Audit, Report
from .booth import Booth, BoothResult, ReceiptWatch
from .config import MAX_VIDEO_BYTES, QUIET_S, FaultConfig
from .kills import Killer
from .rabbit import PrivateRabbit, list_queues


def cluster_env(smsc_url: str, config: FaultConfig) -> dict[str, str]:
    return {
        "DIALOG_KIOSK_GATEWAY_MAX_VIDEO_BYTES": str(MAX_VIDEO_BYTES),
        "DIALOG_MEDIA_STORE_MAX_BYTES": str(MAX_VIDEO_BYTES),
        "DIALOG_BUS_RETRY_FIRST_DELAY_S": "0.2",
        # Officials' SMS at any hour: the run must not wait for the morning.
        "DIALOG_NOTIFIER_QUIET_START": "00:00",
        "DIALOG_NOTIFIER_QUIET_END": "00:00",
        "DIALOG_NOTIFIER_SMSC_URL": smsc_url,
        "DIALOG_NOTIFIER_SMSC_LOGIN": SMSC_LOGIN,
        "DIALOG_NOTIFIER_SMSC_PASSWORD": SMSC_PASSWORD,
        "DIALOG_NOTIFIER_NOTIFY_CITIZEN_ON_RECORD": str(config.notify_citizen_on_record).lower(),
    }


def stop_all(cluster: Distributed, grace_s: float = 10.0) -> None:
    """SIGTERM every service at once, SIGKILL what is left after `grace_s`."""
    processes = [p for p in cluster.processes.values() if p.alive()]
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            process.popen.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for process in processes:
        try:
            process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.popen.kill()
            process.popen.wait()


def run(config: FaultConfig, work_dir: Path | None = None, *, log: Any = print) -> Report:
    """Start everything, run the faults, audit; everything started is stopped again."""
    started = time.monotonic()
    # moto's S3 server logs every request; the run's own progress lines would drown.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with contextlib.ExitStack() as stack:
        if work_dir is None:
            work_dir = Path(tempfile.mkdtemp(prefix="dialog-faults-"))
            stack.callback(shutil.rmtree, work_dir, ignore_errors=True)
        work_dir.mkdir(parents=True, exist_ok=True)
        namespace = f"flt{uuid.uuid4().hex[:8]}"
        rabbit: PrivateRabbit | None = None
        if config.broker:
            rabbit = PrivateRabbit(work_dir / "rabbitmq")
            stack.callback(rabbit.stop)
            log(f"starting a private RabbitMQ node {rabbit.node} on 127.0.0.1:{rabbit.port}")
            rabbit.start()
            bus_url = rabbit.url
        else:
            bus_url = ensure_rabbitmq()
            stack.callback(_delete_namespace, bus_url, namespace)
        smsc = stack.enter_context(FakeSmscServer())
        mongo_url = stack.enter_context(embedded_mongo(work_dir / "mongo"))
        s3 = stack.enter_context(moto_s3())
        cluster = Distributed(
            data_dir=work_dir / "cluster",
            bus_url=bus_url,
            mongo_url=mongo_url,
            media_url=s3_media_url(s3, f"videos-{namespace}"),
            namespace=namespace,
            db_prefix=namespace,
            env=cluster_env(smsc.url, config),
        )
        stack.callback(stop_all, cluster)
        log("starting the services")
        cluster.start(tuple(s for s in SERVICES if s != "printer-agent"))
        kiosk_id = f"booth-{uuid.uuid4().hex[:8]}"
        token = cluster.kiosk_add(kiosk_id, "Өскемен, №1 ХҚКО / Усть-Каменогорск, ЦОН №1")
        cluster.start_one("printer-agent", printer_kiosk=kiosk_id)
        watch = ReceiptWatch(cluster.data_dir / "printer-agent" / "receipts").start()
        stack.callback(watch.stop)
        from ..webm import make_webm

        video = make_webm(
            work_dir / "appeal.webm", seconds=2, width=96, height=72, fps=5, audio=False
        ).read_bytes()
        report = asyncio.run(
            run_scenario(config, cluster, kiosk_id, token, video, smsc, watch, rabbit, log)
        )
        report.runtime_s = time.monotonic() - started
        return report
    raise AssertionError("unreachable")


def _delete_namespace(url: str, namespace: str) -> None:
    from ..fixtures import delete_namespace

    with contextlib.suppress(Exception):  # cleanup is best effort
        asyncio.run(delete_namespace(url, namespace))


async def run_scenario(
    config: FaultConfig,
    cluster: Distributed,
    kiosk_id: str,
    token: str,
    video: bytes,
    smsc: FakeSmscServer,
    watch: ReceiptWatch,
    rabbit: PrivateRabbit | None,
    log: Any,
) -> Report:
    from pymongo import AsyncMongoClient

    rng = random.Random(config.seed)  # noqa: S311 - a reproducible run, not a secret
    gateway = cluster.url("kiosk-gateway")
    async with httpx.AsyncClient(timeout=30) as http:
        auth = {"Authorization": f"Bearer {token}"}
        officials = (await http.get(f"{gateway}/api/v1/officials", headers=auth)).json()
        ids = [o["id"] for o in officials["officials"]]
        killer = Killer(cluster, kiosk_id, rabbit, rng, log)
        audit = Audit(cluster, kiosk_id, smsc, watch, {}, killer.kills, config)
        for official in ids:
            contact = await http.get(
                f"{cluster.url('routing')}/api/v1/directory/officials/{official}/contact",
                headers=audit.internal,
            )
            contact.raise_for_status()
            audit.official_phones[official] = contact.json()["phone"]

        booth = Booth(gateway, token, video, ids, config)
        citizens = [booth.citizen(i, rng) for i in range(config.appeals)]
        queue: asyncio.Queue[BoothResult] = asyncio.Queue()
        for citizen in citizens:
            queue.put_nowait(citizen)
        booths_done = asyncio.Event()

        pace = config.pace()
        loop = asyncio.get_running_loop()
        first = loop.time()

        async def worker() -> None:
            while not queue.empty():
                citizen = queue.get_nowait()
                # Appeals at a steady pace rather than as fast as the booths go: a steady flow
                # keeps requests and events in flight through every kill and restart.
                await asyncio.sleep(max(0.0, first + citizen.index * pace - loop.time()))
                await booth.appeal(http, citizen)
                if citizen.index % 50 == 49:
                    log(f"  {citizen.index + 1} appeals made, {len(killer.kills)} kills")

        log(f"making {config.appeals} appeals while killing {', '.join(killer.targets)}")
        killing = asyncio.create_task(killer.run(config, booths_done))
        try:
            await asyncio.gather(*(worker() for _ in range(max(1, config.concurrency))))
        finally:
            booths_done.set()
        await killing
        await asyncio.to_thread(killer.check_alive)
        log(f"appeals made, {len(killer.kills)} kills; waiting for the system to settle")

        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(cluster.mongo_url, tz_aware=True)
        try:
            settle_started = time.monotonic()
            deadline = settle_started + config.settle_timeout_s
            quiet_since: float | None = None
            settled = False
            while True:
                appeals = await audit.registered(mongo)
                cases = await audit.cases(http)
                rows, problems, notes, complete = audit.tally(appeals, cases)
                queued = await asyncio.to_thread(_queued, rabbit, cluster.namespace)
                pending = await audit.outbox_pending(mongo)
                sms = await audit.sms_on_their_way(mongo)
                now = time.monotonic()
                quiet = queued == 0 and pending == 0 and sms == 0
                quiet_since = (quiet_since or now) if quiet else None
                if quiet_since is not None and (complete or now - quiet_since >= QUIET_S):
                    settled = True
                    break
                if now > deadline:
                    problems.append(
                        f"not settled after {config.settle_timeout_s:g} s: {queued} messages "
                        f"queued, {pending} events pending in outboxes, {sms} SMS the notifier "
                        "still holds to send"
                    )
                    break
                await asyncio.sleep(2.0)
            settle_s = time.monotonic() - settle_started
            dead, reasons = await audit.dead_letters(rabbit.url if rabbit else cluster.bus_url)
        finally:
            await mongo.close()

    await asyncio.to_thread(killer.check_alive)
    problems.extend(killer.crashes)
    if sum(dead.values()):
        problems.append(f"{sum(dead.values())} messages in dead-letter queues")
    booth_numbers = {c.registration_number for c in citizens if c.registration_number}
    db_numbers = {a["registration_number"] for a in appeals}
    if booth_numbers - db_numbers:
        problems.append(
            "numbers the booth showed but nobody registered: "
            + ", ".join(sorted(booth_numbers - db_numbers))
        )
    refused = [c for c in citizens if c.outcome == "refused"]
    for citizen in refused:
        problems.append(f"appeal {citizen.index} refused by the booth API: {citizen.detail}")
    abandoned = [c for c in citizens if c.outcome in ("abandoned", "answer_lost")]
    if abandoned:
        notes.append(
            f"{len(abandoned)} citizens left without a number on screen: "
            + "; ".join(f"{c.index}: {c.outcome} ({c.detail})" for c in abandoned[:10])
        )
    return Report(
        config=config,
        booth=citizens,
        kills=list(killer.kills),
        registered=len(appeals),
        rows=rows,
        dead_letters=dead,
        dead_letter_reasons=reasons,
        problems=problems,
        notes=notes,
        settled=settled,
        settle_s=settle_s,
        runtime_s=0.0,
        log_excerpts=_log_excerpts(cluster.data_dir / "logs") if problems else [],
    )


def _log_excerpts(logs: Path, limit: int = 12) -> list[str]:
    """The services' own words about what they gave up on, for a failed run's report."""
    found: list[str] = []
    for path in sorted(logs.glob("*.log")):
        for line in path.read_text(errors="replace").splitlines():
            if "dead-letter" in line or "gave up" in line or line.startswith("Traceback"):
                found.append(f"{path.stem}: {line[:300]}")
    return found[:limit] + ([f"… {len(found) - limit} more"] if len(found) > limit else [])


def _queued(rabbit: PrivateRabbit | None, namespace: str) -> int:
    """Messages still in the run's queues (ready or unacked), dead-letter queues aside."""
    try:
        queues = list_queues(rabbit)
    except (RuntimeError, subprocess.TimeoutExpired):
        return -1  # the broker is not answering: certainly not settled
    return sum(
        n
        for name, n in queues.items()
        if name.startswith(f"{namespace}.") and not name.endswith(".dlq")
    )
