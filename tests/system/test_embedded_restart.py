"""`dialog run` while its embedded server (nx-27017) is SIGKILLed during appeals.

The issue's done-criterion: under `dialog run`, SIGKILL of the embedded server during appeals:
`/readyz` is 200 again within 10 s and no appeal, receipt or SMS is lost or doubled.

About 20 appeals go through the booth API at a steady pace, with the booth page's retries
(`testing/faults/booth.py`), while the server the runner started is killed three times a few
seconds apart; the runner's supervisor starts it again on the same port. When the system has
settled, the fault harness's audit checks every registered appeal end to end (one receipt PNG,
one case at routing, one SMS to its official, one to its citizen), and `dialog dlq list` must
show no dead letters.

Only the embedded server of the `dialog run` this test started is ever signalled: its pid comes
from `<data dir>/nx-27017.json` and must be a child of our runner's process.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import httpx
import psutil
import pytest
from pymongo import AsyncMongoClient

from dialog_platform.testing.faults import (
    Audit,
    Booth,
    BoothResult,
    FaultConfig,
    Kill,
    ReceiptWatch,
    cluster_env,
)
from dialog_platform.testing.launch import Distributed, SingleProcess, run_cli
from dialog_platform.testing.smsc import FakeSmscServer
from dialog_platform.testing.webm import make_webm

APPEALS = 20
PACE_S = 1.0  # one appeal starts every second: ~20 s of appeals
KILLS = 3
FIRST_KILL_AFTER_S = 3.0
KILL_GAP_S = 3.0  # after the system is ready again
READY_WITHIN_S = 10.0
SETTLE_TIMEOUT_S = 40.0
# Once everything is there, this long more for a late second copy of anything to show up.
HOLD_AFTER_COMPLETE_S = 3.0
DEAD_LETTERS = re.compile(r"(\d+) dead letter\(s\)")


@dataclass
class _SingleAsCluster:
    """What `faults.Audit` reads of its cluster, for the single process (one URL for all)."""

    runner: SingleProcess
    data_dir: Path
    db_prefix: str = "dialog"
    namespace: str = "dialog"

    def url(self, service: str) -> str:
        return self.runner.url


def server_pid(data_dir: Path) -> int:
    return int(json.loads((data_dir / "nx-27017.json").read_text())["pid"])


def ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def kill_embedded(runner: SingleProcess) -> Kill:
    """SIGKILL the runner's embedded server; return once `/readyz` is 200 again (≤ 10 s)."""
    assert runner.process is not None
    pid = server_pid(runner.data_dir)
    # Ours: the server the runner we started has started (its child), never anyone else's.
    assert psutil.Process(pid).ppid() == runner.process.popen.pid, "not our runner's server"
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    kill = Kill("nx-27017", pid, datetime.now(UTC))
    while True:
        try:
            restarted = server_pid(runner.data_dir) != pid
        except (OSError, ValueError, KeyError):
            restarted = False  # the state file is being rewritten
        if restarted and ready(runner.url):
            break
        if time.monotonic() - killed > READY_WITHIN_S:
            pytest.fail(
                f"/readyz not 200 within {READY_WITHIN_S:g} s of SIGKILL of pid {pid}:\n"
                + runner.process.tail(60)
            )
        time.sleep(0.1)
    kill.down_s = time.monotonic() - killed
    return kill


def log_excerpts(log: Path, limit: int = 40) -> str:
    lines = [
        line[:300]
        for line in log.read_text(errors="replace").splitlines()
        if any(w in line for w in ("ERROR", "gave up", "dead letter", "Traceback", "WARNING"))
    ]
    return "\n".join(lines[-limit:])


@pytest.mark.timeout(180)
async def test_nothing_lost_or_twice_while_the_embedded_server_is_killed(
    tmp_path: Path,
) -> None:
    seed = int(os.environ.get("DIALOG_FAULTS_SEED") or random.randrange(1, 10_000))
    config = FaultConfig(appeals=APPEALS, seed=seed, pace_s=PACE_S, patience_s=90.0)
    assert config.notify_citizen_on_record  # so the citizen's SMS is expected too
    rng = random.Random(seed)  # a reproducible run (the seed is printed)
    video = make_webm(
        tmp_path / "appeal.webm", seconds=2, width=96, height=72, fps=5, audio=False
    ).read_bytes()
    data_dir = tmp_path / "single"
    data_dir.mkdir()

    with FakeSmscServer() as smsc:
        runner = SingleProcess(data_dir=data_dir, env=cluster_env(smsc.url, config))
        runner.start()
        watch = ReceiptWatch(data_dir / "receipts").start()
        try:
            kiosk_id = f"booth-{uuid.uuid4().hex[:8]}"
            token = runner.kiosk_add(kiosk_id, "Өскемен, №1 ХҚКО / Усть-Каменогорск, ЦОН №1")
            port = json.loads((data_dir / "nx-27017.json").read_text())["port"]
            mongo_url = f"mongodb://127.0.0.1:{port}/?directConnection=true"
            kills: list[Kill] = []
            cluster = cast(Distributed, _SingleAsCluster(runner, data_dir))
            audit = Audit(cluster, kiosk_id, smsc, watch, {}, kills, config)

            async with httpx.AsyncClient(timeout=30) as http:
                auth = {"Authorization": f"Bearer {token}"}
                officials = (await http.get(f"{runner.url}/api/v1/officials", headers=auth)).json()
                ids = [o["id"] for o in officials["officials"]]
                for official in ids:
                    contact = await http.get(
                        f"{runner.url}/api/v1/directory/officials/{official}/contact",
                        headers=audit.internal,
                    )
                    contact.raise_for_status()
                    audit.official_phones[official] = contact.json()["phone"]

                booth = Booth(runner.url, token, video, ids, config)
                citizens = [booth.citizen(i, rng) for i in range(APPEALS)]
                loop = asyncio.get_running_loop()
                first = loop.time()

                async def appeal(citizen: BoothResult) -> None:
                    await asyncio.sleep(max(0.0, first + citizen.index * PACE_S - loop.time()))
                    await booth.appeal(http, citizen)

                async def killer() -> None:
                    await asyncio.sleep(FIRST_KILL_AFTER_S)
                    for _ in range(KILLS):
                        kill = await asyncio.to_thread(kill_embedded, runner)
                        kills.append(kill)
                        print(f"kill {len(kills)}: pid {kill.pid}, ready after {kill.down_s:.2f} s")
                        await asyncio.sleep(KILL_GAP_S)

                await asyncio.gather(killer(), *(appeal(c) for c in citizens))

                # Settle (bounded): everything there, then a moment more for late doubles.
                mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
                try:
                    began = time.monotonic()
                    complete_since: float | None = None
                    while True:
                        appeals = await audit.registered(mongo)
                        cases = await audit.cases(http)
                        rows, problems, notes, complete = audit.tally(appeals, cases)
                        now = time.monotonic()
                        complete_since = (complete_since or now) if complete else None
                        if complete_since is not None and now - complete_since >= (
                            HOLD_AFTER_COMPLETE_S
                        ):
                            break
                        if now - began > SETTLE_TIMEOUT_S:
                            problems.append(f"not complete after {SETTLE_TIMEOUT_S:g} s")
                            break
                        await asyncio.sleep(0.5)
                    settle_s = time.monotonic() - began
                    everyone = [a async for a in mongo["dialog_kiosk_gateway"].appeals.find({})]
                finally:
                    await mongo.close()

            dlq = await asyncio.to_thread(run_cli, ["dlq", "list"], runner.base_env())
            assert runner.process is not None
            alive = runner.process.alive()
            log = runner.process.log
        finally:
            watch.stop()
            runner.stop()

    # The booth: every citizen got a number (or a receipt for an answer lost in a kill).
    outcomes = Counter(c.outcome for c in citizens)
    tries: Counter[str] = Counter()
    for c in citizens:
        tries.update(c.tries)
    for citizen in citizens:
        if citizen.outcome not in ("registered", "answer_lost"):
            problems.append(f"appeal {citizen.index}: {citizen.outcome} ({citizen.detail})")
    # Every number the booth showed is one registered appeal, that citizen's, and no citizen
    # has two registered appeals.
    by_number = Counter(a["registration_number"] for a in appeals)
    for citizen in citizens:
        number = citizen.registration_number
        if number is not None and by_number[number] != 1:
            problems.append(f"booth showed {number}: registered {by_number[number]} times")
    per_phone = Counter(a["phone"] for a in appeals)
    for citizen in citizens:
        if per_phone[citizen.phone] != 1 and citizen.outcome in ("registered", "answer_lost"):
            problems.append(
                f"appeal {citizen.index} ({citizen.phone}): {per_phone[citizen.phone]} registered"
            )
    if len(appeals) != APPEALS:
        problems.append(f"{len(appeals)} appeals registered for {APPEALS} citizens")
    stray = [a["_id"] for a in everyone if a.get("kiosk_id") != kiosk_id]
    if stray:
        problems.append(f"appeals of another kiosk: {stray}")
    found = DEAD_LETTERS.search(dlq)
    if found is None or int(found.group(1)) != 0:
        problems.append(f"dead letters stored:\n{dlq}")
    if len(kills) != KILLS:
        problems.append(f"{len(kills)} kills made, {KILLS} wanted")
    if not alive:
        problems.append("dialog run exited on its own")

    table = "\n".join(
        [
            f"seed {seed}; kills: "
            + ", ".join(f"pid {k.pid} ready after {k.down_s:.2f} s" for k in kills),
            "booth: "
            + ", ".join(f"{k} {n}" for k, n in sorted(outcomes.items()))
            + f"; requests: create {tries['create']}, upload {tries['upload']}, "
            f"submit {tries['submit']}; settled in {settle_s:.1f} s",
            f"dlq list: {dlq.strip().splitlines()[-1] if dlq.strip() else '(nothing)'}",
            *(
                f"  {r.name:20s} expected {r.expected} got {r.got} missing {r.missing} "
                f"twice {r.twice}" + (f" ({r.note})" if r.note else "")
                for r in rows
            ),
            *(f"  note: {n}" for n in notes),
            *(f"  PROBLEM: {p}" for p in problems),
        ]
    )
    print(table)
    assert not problems, table + "\n\ndialog run's log:\n" + log_excerpts(log)
    assert all(k.down_s < READY_WITHIN_S for k in kills), table
