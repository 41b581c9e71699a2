"""Fault runs: the distributed system under SIGKILLs, driven through the booth API, then audited.

Used by `bench/faults.py` (`make bench`) and `tests/system/test_faults.py` (`make test`). The
system is started with the launcher the system tests use (`launch.Distributed` on nx-27017,
moto S3 and the SMSC stand-in); appeals go through the booth API with the booth page's retries;
one process at a time is killed with SIGKILL and started again (a service, or with `broker=True`
a RabbitMQ node of the run's own). When the system has settled, every registered appeal is
checked end to end: receipt, routing's case, the official's SMS, the citizen's SMS, and the
dead-letter queues.

Only processes this module started are ever signalled, by the pid of the child it holds (never
reaped before the kill, so the pid cannot belong to anyone else).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from dialog_contracts import ReceiptRequested, queue_name

from ..internal import HEADER, token_for
from ..net import free_port, port_open
from .launch import SERVICES, TEST_SECRET, Distributed, Process
from .servers import embedded_mongo, ensure_rabbitmq, moto_s3, s3_media_url
from .smsc import LOGIN as SMSC_LOGIN
from .smsc import PASSWORD as SMSC_PASSWORD
from .smsc import FakeSmscServer

BROKER = "broker"
# kiosk.js: RETRY_DELAYS_S, the waits between the booth's tries of an upload or a submit.
BOOTH_RETRY_DELAYS_S = (1.0, 2.0, 4.0, 8.0, 8.0)
# After the booth gives up it shows "try again"; a citizen who is still there presses it.
CITIZEN_PRESSES_AGAIN_S = 3.0
RECEIPT_POLL_S = 0.1
# How long everything must stay quiet (no queued message, no pending outbox event) before an
# incomplete outcome is taken as final rather than as still on its way.
QUIET_S = 10.0
MAX_VIDEO_BYTES = 2_000_000
NUMBER = re.compile(r"\d{4}-\d{6}-\d")


@dataclass
class FaultConfig:
    appeals: int = 40
    kill_every: tuple[float, float] = (1.0, 3.0)
    # At least this many kills; the appeals are then spread over them (0: kill until the
    # appeals are done).
    kills: int = 0
    broker: bool = False
    seed: int = 1
    concurrency: int = 4
    settle_timeout_s: float = 180.0
    # How long a citizen keeps trying before walking away from the booth.
    patience_s: float = 240.0
    notify_citizen_on_record: bool = True
    # Seconds between the starts of two appeals; None: spread them over the expected time of
    # `kills` kills (or 0.5 s when the kills simply last as long as the appeals).
    pace_s: float | None = None

    def pace(self) -> float:
        if self.pace_s is not None:
            return self.pace_s
        if not self.kills:
            return 0.5
        low, high = self.kill_every
        # A service is back ~4 s after its kill, a broker ~12 s (measured on 2 cores).
        restarts = self.kills * 4.0 + (2 * 8.0 if self.broker else 0.0)
        return (self.kills * (low + high) / 2 + restarts) / self.appeals


# -- a RabbitMQ node of the run's own ------------------------------------------------------------


def _rabbit_bin(name: str) -> str:
    # The scripts themselves, not Debian's /usr/sbin wrappers: those `su` to the rabbitmq user,
    # which loses our environment (node name, ports, folders) and the pid.
    direct = Path("/usr/lib/rabbitmq/bin") / name
    if direct.exists():
        return str(direct)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not installed")
    return found


class PrivateRabbit:
    """A RabbitMQ node on its own loopback ports and data folder, run in the foreground.

    It is started in a session of its own, so the process group is exactly the node (the
    `rabbitmq-server` shell and the beam it starts): SIGKILL of the group kills the broker and
    nothing else. Restarted on the same name, ports and folder, it finds its queues again.
    """

    def __init__(self, base: Path) -> None:
        self.base = base
        self.node = f"faults-{uuid.uuid4().hex[:8]}@localhost"
        self.port = free_port()
        self.dist_port = free_port()
        while self.dist_port == self.port:
            self.dist_port = free_port()
        self.popen: subprocess.Popen[bytes] | None = None
        base.mkdir(parents=True, exist_ok=True)
        (base / "enabled_plugins").write_text("[].\n")
        # Our own (empty) env file: the machine's /etc/rabbitmq/rabbitmq-env.conf names the
        # machine's node.
        (base / "rabbitmq-env.conf").write_text("")
        (base / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\n"
            "loopback_users.guest = true\n"
            "disk_free_limit.absolute = 50MB\n"
        )

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            # The Erlang cookie goes in $HOME: the run's folder, not the user's.
            "HOME": str(self.base),
            "RABBITMQ_CONF_ENV_FILE": str(self.base / "rabbitmq-env.conf"),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq.conf"),
            "ERL_FLAGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    def start(self, timeout: float = 120.0) -> None:
        with (self.base / "server.log").open("ab") as log:
            self.popen = subprocess.Popen(  # noqa: S603 - our own command line
                [_rabbit_bin("rabbitmq-server")],
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while not port_open("127.0.0.1", self.port):
            if self.popen.poll() is not None:
                raise RuntimeError(f"rabbitmq-server exited:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"rabbitmq-server not up after {timeout}s:\n{self.tail()}")
            time.sleep(0.2)
        # After a SIGKILL the AMQP port can answer before the node is known to epmd again;
        # the CLI then says "not running" for a moment.
        while True:
            try:
                self.ctl(["await_startup"], timeout=max(5.0, deadline - time.monotonic()))
                return
            except (RuntimeError, subprocess.TimeoutExpired):
                if self.popen.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(1.0)

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def beam_pid(self) -> int | None:
        """The Erlang VM's pid (the node's process group holds it and the shell script)."""
        if self.popen is None:
            return None
        import psutil

        with contextlib.suppress(psutil.Error):
            for child in psutil.Process(self.popen.pid).children(recursive=True):
                if child.name().startswith("beam"):
                    return int(child.pid)
        return None

    def kill(self) -> int:
        """SIGKILL the whole node; returns the beam's pid (or the group's)."""
        if self.popen is None:
            raise RuntimeError("the broker was never started")
        pid = self.beam_pid() or self.popen.pid
        with contextlib.suppress(ProcessLookupError):
            # Our child is not reaped yet, so its pid is still the group we created.
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()
        return pid

    def stop(self) -> None:
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)

    def ctl(self, args: list[str], timeout: float = 60.0) -> str:
        result = subprocess.run(  # noqa: S603 - our own command line
            [_rabbit_bin("rabbitmqctl"), "-n", self.node, *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {result.stderr or result.stdout}")
        return result.stdout

    def tail(self, lines: int = 30) -> str:
        try:
            text = (self.base / "server.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def list_queues(rabbit: PrivateRabbit | None) -> dict[str, int]:
    """Every queue of the broker with its messages (ready and unacknowledged)."""
    args = ["list_queues", "-q", "--no-table-headers", "name", "messages"]
    if rabbit is not None:
        out = rabbit.ctl(args)
    else:
        result = subprocess.run(  # noqa: S603
            [shutil.which("rabbitmqctl") or "rabbitmqctl", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"rabbitmqctl list_queues: {result.stderr}")
        out = result.stdout
    queues: dict[str, int] = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[-1].isdigit():
            queues[" ".join(parts[:-1])] = int(parts[-1])
    return queues


# -- receipts as they come out ------------------------------------------------------------------


class ReceiptWatch:
    """Notes every version of every receipt PNG: a reprint replaces the file with a new inode.

    PngPrinter writes a temp file and renames it over the old one, so a reprint shows as a new
    inode under the same name; the two prints of one receipt are seconds apart (a kill and a
    restart lie between them), far more than the polling interval.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.versions: dict[str, list[tuple[int, int, datetime]]] = defaultdict(list)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="receipt-watch", daemon=True)
        self._lock = threading.Lock()

    def start(self) -> ReceiptWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.scan()
            self._stop.wait(RECEIPT_POLL_S)

    def scan(self) -> None:
        try:
            entries = list(os.scandir(self.directory))
        except OSError:
            return
        now = datetime.now(UTC)
        with self._lock:
            for entry in entries:
                if entry.name.startswith(".") or not entry.name.endswith(".png"):
                    continue
                try:
                    st = entry.stat()
                except OSError:
                    continue
                seen = self.versions[entry.name[: -len(".png")]]
                if not seen or seen[-1][:2] != (st.st_ino, st.st_mtime_ns):
                    seen.append((st.st_ino, st.st_mtime_ns, now))

    def snapshot(self) -> dict[str, list[datetime]]:
        with self._lock:
            return {name: [v[2] for v in seen] for name, seen in self.versions.items()}


# -- the booth ----------------------------------------------------------------------------------


@dataclass
class BoothResult:
    index: int
    phone: str
    official_id: str
    language: str
    category: str
    outcome: str = "abandoned"  # registered | answer_lost | abandoned | refused
    appeal_ids: list[str] = field(default_factory=list)
    registration_number: str | None = None
    tries: Counter[str] = field(default_factory=Counter)
    detail: str = ""


async def _call(http: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
    """(status, JSON body); status 0 for a network failure, as the booth's fetch() sees it."""
    try:
        response = await http.request(method, url, **kwargs)
    except httpx.HTTPError:
        return 0, None
    try:
        body = response.json()
    except ValueError:
        body = None
    return response.status_code, body


def _error_code(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("code", ""))
    return ""


class Booth:
    """One citizen after another at the booth, making the booth page's requests and retries."""

    def __init__(
        self, gateway: str, token: str, video: bytes, officials: list[str], config: FaultConfig
    ) -> None:
        self.gateway = gateway
        self.auth = {"Authorization": f"Bearer {token}"}
        self.video = video
        self.officials = officials
        self.config = config

    def citizen(self, index: int, rng: random.Random) -> BoothResult:
        # A phone per appeal, so that each SMS names its appeal by recipient as well as by text.
        suffix = (self.config.seed * 10_007 + index) % 10_000_000
        return BoothResult(
            index=index,
            phone=f"+7705{suffix:07d}",
            official_id=rng.choice(self.officials),
            language=rng.choice(("kk", "ru")),
            category=rng.choice(("question", "violation")),
        )

    async def appeal(self, http: httpx.AsyncClient, result: BoothResult) -> BoothResult:
        deadline = time.monotonic() + self.config.patience_s
        body = {
            "official_id": result.official_id,
            "phone": result.phone,
            "language": result.language,
            "category": result.category,
            "consent": True,
            "full_name": "Айгүл Серікқызы Нұрланова",
            "iin": "900101400013",
        }
        # "Next" on the identity screen: on failure the booth shows the error and the citizen
        # presses again (kiosk.js sends nothing by itself).
        created: dict[str, Any] | None = None
        presses = 0
        while created is None:
            result.tries["create"] += 1
            status, answer = await _call(
                http, "POST", f"{self.gateway}/api/v1/appeals", json=body, headers=self.auth
            )
            if status == 201 and isinstance(answer, dict):
                created = answer
                break
            if status not in (0,) and status < 500:
                result.outcome, result.detail = "refused", f"create answered {status}: {answer}"
                return result
            delay = BOOTH_RETRY_DELAYS_S[min(presses, len(BOOTH_RETRY_DELAYS_S) - 1)]
            presses += 1
            if time.monotonic() + delay > deadline:
                result.detail = f"create kept failing ({status})"
                return result
            await asyncio.sleep(delay)
        result.appeal_ids.append(created["appeal_id"])
        upload = f"{self.gateway}{created['upload_url']}"
        submit = f"{self.gateway}{created['submit_url']}"
        submitted_once = False
        while time.monotonic() < deadline:
            # send(): up to six uploads, then register(): up to six submits.
            uploaded = False
            for attempt in range(len(BOOTH_RETRY_DELAYS_S) + 1):
                if attempt:
                    await asyncio.sleep(BOOTH_RETRY_DELAYS_S[attempt - 1])
                result.tries["upload"] += 1
                status, answer = await _call(
                    http,
                    "PUT",
                    upload,
                    content=self.video,
                    headers={**self.auth, "Content-Type": "video/webm"},
                )
                if status == 201:
                    uploaded = True
                    break
                if status == 0 or status >= 500:
                    continue
                if status == 409 and _error_code(answer) == "appeal_submitted" and submitted_once:
                    # A submit went through but its answer was lost: the booth cannot show the
                    # number; the printed receipt carries it.
                    result.outcome, result.detail = "answer_lost", "upload after submit: 409"
                    return result
                result.outcome, result.detail = "refused", f"upload answered {status}: {answer}"
                return result
            if uploaded:
                for attempt in range(len(BOOTH_RETRY_DELAYS_S) + 1):
                    result.tries["submit"] += 1
                    submitted_once = True
                    status, answer = await _call(http, "POST", submit, headers=self.auth)
                    if status in (200, 201) and isinstance(answer, dict):
                        result.outcome = "registered"
                        result.registration_number = str(answer["registration_number"])
                        return result
                    if status == 409 and _error_code(answer) == "appeal_submitted":
                        result.outcome, result.detail = "answer_lost", "repeated submit: 409"
                        return result
                    if status != 0 and status < 500:
                        result.outcome = "refused"
                        result.detail = f"submit answered {status}: {answer}"
                        return result
                    if attempt < len(BOOTH_RETRY_DELAYS_S):
                        await asyncio.sleep(BOOTH_RETRY_DELAYS_S[attempt])
            if time.monotonic() + CITIZEN_PRESSES_AGAIN_S > deadline:
                break
            await asyncio.sleep(CITIZEN_PRESSES_AGAIN_S)
        result.detail = result.detail or "gave up: upload or submit kept failing"
        return result


# -- kills --------------------------------------------------------------------------------------


@dataclass
class Kill:
    target: str
    pid: int
    at: datetime
    down_s: float = 0.0
    note: str = ""


class Killer:
    def __init__(
        self,
        cluster: Distributed,
        kiosk_id: str,
        rabbit: PrivateRabbit | None,
        rng: random.Random,
        log: Any,
    ) -> None:
        self.log = log
        self.cluster = cluster
        self.kiosk_id = kiosk_id
        self.rabbit = rabbit
        self.rng = rng
        self.kills: list[Kill] = []
        self.crashes: list[str] = []
        self.targets = [*SERVICES, *([BROKER] if rabbit is not None else [])]
        self.done = asyncio.Event()

    def kill_and_restart(self, target: str) -> Kill:
        if target == BROKER:
            assert self.rabbit is not None
            pid = self.rabbit.kill()
            kill = Kill(target, pid, datetime.now(UTC))
            started = time.monotonic()
            try:
                self.rabbit.start()
            except (RuntimeError, subprocess.TimeoutExpired):
                self.rabbit.stop()
                self.rabbit.start()
        else:
            process = self.cluster.processes[target]
            if not process.alive():
                self.crashes.append(f"{target} had exited on its own:\n{process.tail()}")
                pid = process.popen.pid
            else:
                # Not reaped yet, so the pid is still this child of ours.
                pid = process.popen.pid
                os.kill(pid, signal.SIGKILL)
                process.popen.wait()
            kill = Kill(target, pid, datetime.now(UTC))
            started = time.monotonic()
            self.start(target)
        kill.down_s = time.monotonic() - started
        return kill

    def start(self, target: str) -> Process:
        kiosk = self.kiosk_id if target == "printer-agent" else None
        for tries in range(3):
            try:
                return self.cluster.start_one(target, printer_kiosk=kiosk)
            except RuntimeError as exc:
                # Not ready in time (a dependency still coming back): kill what is left of it
                # and start it again.
                self.cluster.processes[target].stop(kill=True)
                if tries == 2:
                    raise RuntimeError(f"{target} would not start again: {exc}") from exc
        raise AssertionError("unreachable")

    async def run(self, config: FaultConfig, booths_done: asyncio.Event) -> None:
        low, high = config.kill_every
        try:
            while not (booths_done.is_set() and len(self.kills) >= config.kills):
                with contextlib.suppress(TimeoutError):
                    # Stop waiting as soon as the appeals are done and enough kills were made.
                    await asyncio.wait_for(booths_done.wait(), timeout=self.rng.uniform(low, high))
                if booths_done.is_set() and len(self.kills) >= config.kills:
                    break
                if booths_done.is_set():
                    await asyncio.sleep(self.rng.uniform(low, high))
                target = self.next_target(config)
                kill = await asyncio.to_thread(self.kill_and_restart, target)
                self.kills.append(kill)
                self.log(
                    f"  kill {len(self.kills)}: {kill.target} (pid {kill.pid}), "
                    f"back after {kill.down_s:.1f} s"
                )
        finally:
            self.done.set()

    def next_target(self, config: FaultConfig) -> str:
        """A random target; with a fixed number of kills, the broker at a third and two thirds.

        Left to chance, 15 kills among 7 targets miss the broker one run in ten.
        """
        thirds = (config.kills // 3, 2 * config.kills // 3)
        if self.rabbit is not None and config.kills >= 3 and len(self.kills) in thirds:
            return BROKER
        return self.rng.choice(self.targets)

    def check_alive(self) -> None:
        """A service that died without our kill is a finding; start it again to go on."""
        for name, process in list(self.cluster.processes.items()):
            if not process.alive():
                self.crashes.append(f"{name} exited on its own:\n{process.tail()}")
                self.start(name)
        if self.rabbit is not None and not self.rabbit.alive():
            self.crashes.append(f"the broker exited on its own:\n{self.rabbit.tail()}")
            self.rabbit.start()


# -- the audit ----------------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    expected: int
    got: int
    missing: int
    twice: int | None
    note: str = ""


@dataclass
class Report:
    config: FaultConfig
    booth: list[BoothResult]
    kills: list[Kill]
    registered: int
    rows: list[Row]
    dead_letters: dict[str, int]
    dead_letter_reasons: list[str]
    problems: list[str]
    notes: list[str]
    settled: bool
    settle_s: float
    runtime_s: float
    log_excerpts: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def table(self) -> str:
        outcomes = Counter(b.outcome for b in self.booth)
        tries = Counter[str]()
        for b in self.booth:
            tries.update(b.tries)
        per_target = Counter(k.target for k in self.kills)
        lines = [
            f"fault run: {self.config.appeals} appeals, seed {self.config.seed}, "
            f"kill every {self.config.kill_every[0]:g}-{self.config.kill_every[1]:g} s"
            f"{', broker too' if self.config.broker else ''}, an appeal every "
            f"{self.config.pace():.2f} s; runtime {self.runtime_s:.0f} s",
            f"kills: {len(self.kills)} ("
            + ", ".join(f"{t} {n}" for t, n in sorted(per_target.items()))
            + f"); restart took {_spread([k.down_s for k in self.kills])} s",
            "booth: "
            + ", ".join(f"{name} {outcomes[name]}" for name in sorted(outcomes))
            + f"; requests: create {tries['create']}, upload {tries['upload']}, "
            f"submit {tries['submit']}",
            f"settled: {'yes' if self.settled else 'NO'} after {self.settle_s:.0f} s",
            "",
            f"{'':24s}{'expected':>9s}{'got':>7s}{'missing':>9s}{'twice':>7s}",
            f"{'appeals registered':24s}{len(self.booth):>9d}{self.registered:>7d}{'':>9s}{'':>7s}",
        ]
        for row in self.rows:
            twice = "-" if row.twice is None else str(row.twice)
            lines.append(
                f"{row.name:24s}{row.expected:>9d}{row.got:>7d}{row.missing:>9d}{twice:>7s}"
                + (f"   {row.note}" if row.note else "")
            )
        total = sum(self.dead_letters.values())
        lines.append(f"{'dead letters':24s}{0:>9d}{total:>7d}")
        for name, count in sorted(self.dead_letters.items()):
            if count:
                lines.append(f"    {name}: {count}")
        lines.extend(f"      {reason}" for reason in self.dead_letter_reasons)
        if self.log_excerpts:
            lines += ["", "service logs (dead letters, gave up, tracebacks):"]
            lines.extend(f"  {line}" for line in self.log_excerpts)
        if self.notes:
            lines += ["", "notes:", *(f"  {n}" for n in self.notes)]
        lines += ["", "result: " + ("OK" if self.ok else f"FAILED ({len(self.problems)})")]
        lines.extend(f"  - {p}" for p in self.problems)
        return "\n".join(lines)


def _spread(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{min(values):.1f}-{max(values):.1f} (mean {sum(values) / len(values):.1f})"


class Audit:
    """What the system did for the booth's appeals, read from its own stores and the outside."""

    def __init__(
        self,
        cluster: Distributed,
        kiosk_id: str,
        smsc: FakeSmscServer,
        watch: ReceiptWatch,
        official_phones: dict[str, str],
        kills: list[Kill],
        config: FaultConfig,
    ) -> None:
        self.cluster = cluster
        self.kills = kills
        self.kiosk_id = kiosk_id
        self.smsc = smsc
        self.watch = watch
        self.official_phones = official_phones
        self.config = config
        self.internal = {HEADER: token_for(TEST_SECRET)}

    async def registered(self, mongo: Any) -> list[dict[str, Any]]:
        db = mongo[f"{self.cluster.db_prefix}_kiosk_gateway"]
        return [
            a async for a in db.appeals.find({"kiosk_id": self.kiosk_id, "status": "submitted"})
        ]

    async def outbox_pending(self, mongo: Any) -> int:
        pending = 0
        for name in await mongo.list_database_names():
            if name.startswith(f"{self.cluster.db_prefix}_"):
                pending += await mongo[name].outbox.count_documents({"state": "pending"})
        return int(pending)

    async def cases(self, http: httpx.AsyncClient) -> list[dict[str, Any]] | None:
        """routing's cases through its API; None while routing does not answer."""
        found: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            # By control date (a date string): nx-27017 compares datetimes to the second only,
            # so a recorded_at cursor can hand a row out on two pages (the case is still one).
            params: dict[str, Any] = {"limit": 200, "sort": "control_date"}
            if after:
                params["after"] = after
            status, body = await _call(
                http,
                "GET",
                f"{self.cluster.url('routing')}/api/v1/cases",
                params=params,
                headers=self.internal,
            )
            if status != 200 or not isinstance(body, dict):
                return None
            found.extend(body["cases"])
            after = body.get("next")
            if not after:
                return found

    def tally(
        self, appeals: list[dict[str, Any]], cases: list[dict[str, Any]] | None
    ) -> tuple[list[Row], list[str], list[str], bool]:
        """(rows, problems, notes, complete) for the appeals registered so far."""
        problems: list[str] = []
        notes: list[str] = []
        by_number = {a["registration_number"]: a for a in appeals}
        numbers = Counter(a["registration_number"] for a in appeals)
        for number, n in numbers.items():
            if n > 1:
                problems.append(f"registration number {number} given to {n} appeals")
        expected = len(appeals)

        # Receipts.
        versions = self.watch.snapshot()
        journal = self._journal()
        printer_kills = [k.at for k in self.kills if k.target == "printer-agent"]
        printed = missing = 0
        in_window: list[str] = []
        outside: list[str] = []
        for number in by_number:
            seen = versions.get(f"{number}-1", [])
            if not seen:
                missing += 1
                continue
            printed += 1
            if len(seen) < 2:
                continue
            marked = journal.get(f"{number}-1")
            explained = all(
                any(
                    earlier.timestamp() - 2 * RECEIPT_POLL_S - 0.5 <= k.timestamp()
                    and k <= later
                    and marked is not None
                    and marked >= k
                    for k in printer_kills
                )
                for earlier, later in itertools.pairwise(seen)
            )
            (in_window if explained else outside).append(f"{number} ×{len(seen)}")
        stray = sorted(n for n in versions if n.removesuffix("-1") not in by_number)
        receipt_note = ""
        if in_window:
            receipt_note = f"{len(in_window)} of them in the print-then-crash window"
            notes.append(
                "reprinted after printer-agent was killed between printing and journalling "
                "(documented in printer_agent/service.py and journal.py): " + ", ".join(in_window)
            )
        if outside:
            problems.append(
                "receipts printed twice outside the crash window: " + ", ".join(outside)
            )
        if stray:
            problems.append(f"receipts of no registered appeal: {', '.join(stray)}")
        if missing:
            problems.append(f"{missing} receipts never printed")
        rows = [
            Row(
                "receipts printed",
                expected,
                printed,
                missing,
                len(in_window) + len(outside),
                receipt_note,
            ),
        ]

        # routing's cases.
        if cases is None:
            problems.append("routing's case list did not answer")
            rows.append(Row("routing cases", expected, 0, expected, None, "routing not answering"))
            case_missing = expected
        else:
            by_appeal = Counter(c["appeal_id"] for c in cases)
            registered_ids = {a["_id"] for a in appeals}
            case_missing = sum(1 for a in appeals if a["_id"] not in by_appeal)
            wrong = [
                c["registration_number"]
                for c in cases
                if c["appeal_id"] in registered_ids
                and (
                    by_number.get(c["registration_number"], {}).get("_id") != c["appeal_id"]
                    or c["official_id"] != by_number[c["registration_number"]]["official_id"]
                )
            ]
            extra = [c["appeal_id"] for c in cases if c["appeal_id"] not in registered_ids]
            twice = sum(1 for n in by_appeal.values() if n > 1)
            rows.append(
                Row("routing cases", expected, expected - case_missing, case_missing, twice)
            )
            if case_missing:
                problems.append(f"{case_missing} registered appeals without a case at routing")
            if wrong:
                problems.append(f"cases with the wrong number or official: {', '.join(wrong)}")
            if extra:
                problems.append(f"{len(extra)} cases of no registered appeal")
            if twice:
                problems.append(f"{twice} appeals with more than one case")

        # SMS, from what the SMSC stand-in received.
        with self.smsc.state.lock:
            messages = list(self.smsc.state.messages)
        official_numbers = set(self.official_phones.values())
        to_official: Counter[str] = Counter()
        to_citizen: Counter[str] = Counter()
        unmatched = 0
        for m in messages:
            found = NUMBER.search(m.text)
            appeal = by_number.get(found.group(0)) if found else None
            if appeal is None:
                unmatched += 1
            elif m.phone == self.official_phones.get(appeal["official_id"]):
                to_official[appeal["registration_number"]] += 1
            elif m.phone == appeal["phone"]:
                to_citizen[appeal["registration_number"]] += 1
            elif m.phone in official_numbers:
                problems.append(f"SMS for {appeal['registration_number']} to another official")
            else:
                unmatched += 1
        sms_missing = 0
        for name, counts, wanted in (
            ("officials' SMS", to_official, True),
            ("citizens' SMS", to_citizen, self.config.notify_citizen_on_record),
        ):
            if not wanted:
                rows.append(Row(name, 0, sum(counts.values()), 0, None, "not configured"))
                if counts:
                    problems.append(f"{name} sent although not configured")
                continue
            lost = sum(1 for n in by_number if counts[n] == 0)
            dup = sum(1 for n in by_number if counts[n] > 1)
            sms_missing += lost
            rows.append(Row(name, expected, sum(1 for n in by_number if counts[n]), lost, dup))
            if lost:
                problems.append(f"{lost} {name} missing")
            if dup:
                problems.append(f"{dup} {name} sent more than once")
        if unmatched:
            problems.append(f"{unmatched} SMS to nobody expected or naming no registered appeal")
        complete = missing == 0 and case_missing == 0 and sms_missing == 0
        return rows, problems, notes, complete

    def _journal(self) -> dict[str, datetime]:
        """printer-agent's journal: when each receipt was marked printed (its first mark)."""
        marks: dict[str, datetime] = {}
        for path in (self.cluster.data_dir / "printer-agent").rglob("journal.sqlite3"):
            with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
                rows = db.execute(
                    "SELECT registration_number, copy_number, printed_at FROM printed"
                ).fetchall()
            for number, copy, at in rows:
                marks[f"{number}-{copy}"] = datetime.fromisoformat(at)
        return marks

    async def dead_letters(self, url: str) -> tuple[dict[str, int], list[str]]:
        """Messages in each consumer's `<queue>.dlq`, and the last reason of each non-empty one."""
        from ..bus.deadletters import AmqpDeadLetters

        receipts = queue_name(
            self.cluster.namespace, "printer-agent", ReceiptRequested, self.kiosk_id
        )
        letters = AmqpDeadLetters(url, self.cluster.namespace, extra_queues=[receipts])
        try:
            rows = await letters.summary()
        finally:
            await letters.close()
        counts = {row.queue: row.count for row in rows}
        reasons = [f"{r.queue}: {r.last_error or 'no reason recorded'}" for r in rows if r.count]
        return counts, reasons


# -- the run ------------------------------------------------------------------------------------


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
        from .webm import make_webm

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
    from .fixtures import delete_namespace

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
                now = time.monotonic()
                quiet = queued == 0 and pending == 0
                quiet_since = (quiet_since or now) if quiet else None
                if quiet_since is not None and (complete or now - quiet_since >= QUIET_S):
                    settled = True
                    break
                if now > deadline:
                    problems.append(
                        f"not settled after {config.settle_timeout_s:g} s: {queued} messages "
                        f"queued, {pending} events pending in outboxes"
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


__all__ = ["FaultConfig", "PrivateRabbit", "ReceiptWatch", "Report", "run"]
