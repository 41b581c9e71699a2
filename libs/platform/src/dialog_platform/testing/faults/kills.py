"""The kills of a fault run: one process at a time SIGKILLed and started again."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..launch import SERVICES, Distributed, Process
from .config import BROKER, FaultConfig
from .rabbit import PrivateRabbit


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
