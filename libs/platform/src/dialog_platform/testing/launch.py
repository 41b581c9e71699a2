"""Start Dialog as real processes: one process (`dialog run`), or one process per service.

Used by the system tests and by `make run-distributed`, so both exercise the same start-up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx

from ..clock import move_clock
from ..net import free_port

SERVICES = ("routing", "media-store", "kiosk-gateway", "notifier", "dashboard", "printer-agent")
TEST_SECRET = "test-secret-for-local-runs-only-0123456789abcdef"  # noqa: S105


def dialog_exe() -> str:
    exe = Path(sys.executable).with_name("dialog")
    return str(exe) if exe.exists() else "dialog"


@dataclass
class Process:
    name: str
    url: str
    popen: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, *, kill: bool = False) -> None:
        if self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def start_process(
    name: str, args: list[str], env: dict[str, str], log_dir: Path, port: int
) -> Process:
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{name}.log"
    with log.open("ab") as out:
        popen = subprocess.Popen(  # noqa: S603 - our own command line
            [dialog_exe(), "run", *args, "--port", str(port)],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    return Process(name=name, url=f"http://127.0.0.1:{port}", popen=popen, log=log)


def wait_ready(process: Process, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if not process.alive():
            raise RuntimeError(f"{process.name} exited:\n{process.tail()}")
        try:
            response = httpx.get(f"{process.url}/readyz", timeout=2.0)
            if response.status_code == 200:
                return
            last = response.text
        except httpx.HTTPError as exc:
            last = str(exc)
        time.sleep(0.2)
    raise RuntimeError(f"{process.name} not ready after {timeout}s ({last}):\n{process.tail()}")


def run_cli(args: list[str], env: dict[str, str]) -> str:
    """Run a `dialog` subcommand; return its stdout (raises with stderr on failure)."""
    result = subprocess.run(  # noqa: S603
        [dialog_exe(), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        command = " ".join(args)
        raise RuntimeError(f"dialog {command} failed ({result.returncode}):\n{result.stderr}")
    return result.stdout


class MovableClock:
    """A launched system whose processes read their clock offset from one file."""

    data_dir: Path

    @property
    def clock_file(self) -> Path:
        return self.data_dir / "clock-offset"

    def move_clock(self, by: timedelta) -> None:
        """Move the running system's clock forward (every process reads the same file)."""
        move_clock(self.clock_file, by)


@dataclass
class SingleProcess(MovableClock):
    """`dialog run` with embedded backends in one data directory."""

    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    process: Process | None = None

    @property
    def url(self) -> str:
        assert self.process is not None
        return self.process.url

    def base_env(self) -> dict[str, str]:
        return {
            "DIALOG_DATA_DIR": str(self.data_dir),
            "DIALOG_SECRET_KEY": TEST_SECRET,
            "DIALOG_CLOCK_OFFSET_FILE": str(self.clock_file),
            **self.env,
        }

    def start(self) -> None:
        port = free_port()
        env = {**self.base_env(), "DIALOG_PUBLIC_URL": f"http://127.0.0.1:{port}"}
        self.process = start_process("dialog", [], env, self.data_dir / "logs", port)
        wait_ready(self.process)

    def kiosk_add(self, kiosk_id: str, location: str) -> str:
        out = run_cli(["kiosk", "add", kiosk_id, "--location", location], self.base_env())
        return out.strip().splitlines()[-1]

    def cli_env(self) -> dict[str, str]:
        return self.base_env()

    def stop(self) -> None:
        if self.process:
            self.process.stop()


@dataclass
class Distributed(MovableClock):
    """One process per service against RabbitMQ, a MongoDB-wire server and an S3 server."""

    data_dir: Path
    bus_url: str
    mongo_url: str
    media_url: str
    namespace: str = "dialog"
    db_prefix: str = "dialog"
    env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, Process] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in SERVICES:
            self.ports[name] = free_port()

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def base_env(self) -> dict[str, str]:
        return {
            "DIALOG_BUS_URL": self.bus_url,
            "DIALOG_MONGO_URL": self.mongo_url,
            "DIALOG_MEDIA_URL": self.media_url,
            "DIALOG_BUS_NAMESPACE": self.namespace,
            "DIALOG_DB_PREFIX": self.db_prefix,
            "DIALOG_SECRET_KEY": TEST_SECRET,
            "DIALOG_CLOCK_OFFSET_FILE": str(self.clock_file),
            "DIALOG_ROUTING_URL": self.url("routing"),
            "DIALOG_MEDIA_STORE_URL": self.url("media-store"),
            "DIALOG_DASHBOARD_URL": self.url("dashboard"),
            "DIALOG_KIOSK_GATEWAY_URL": self.url("kiosk-gateway"),
            "DIALOG_NOTIFIER_URL": self.url("notifier"),
            "DIALOG_PUBLIC_URL": self.url("kiosk-gateway"),
            **self.env,
        }

    def start(
        self, services: tuple[str, ...] = SERVICES, *, printer_kiosk: str | None = None
    ) -> None:
        for name in services:
            self.start_one(name, printer_kiosk=printer_kiosk)

    def start_one(self, name: str, *, printer_kiosk: str | None = None) -> Process:
        env = {**self.base_env(), "DIALOG_DATA_DIR": str(self.data_dir / name)}
        if name == "printer-agent":
            if printer_kiosk is None:
                raise ValueError("printer-agent needs the kiosk it prints for")
            env["DIALOG_PRINTER_AGENT_KIOSK_ID"] = printer_kiosk
        logs = self.data_dir / "logs"
        process = start_process(name, ["--target", name], env, logs, self.ports[name])
        self.processes[name] = process
        wait_ready(process)
        return process

    def kiosk_add(self, kiosk_id: str, location: str, *, rotate: bool = False) -> str:
        env = {**self.base_env(), "DIALOG_DATA_DIR": str(self.data_dir / "kiosk-gateway")}
        args = ["kiosk", "add", kiosk_id, "--location", location] + (["--rotate"] if rotate else [])
        out = run_cli(args, env)
        return out.strip().splitlines()[-1]

    def cli_env(self) -> dict[str, str]:
        return {**self.base_env(), "DIALOG_DATA_DIR": str(self.data_dir / "kiosk-gateway")}

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.stop()
