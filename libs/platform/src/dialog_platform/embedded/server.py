"""The embedded MongoDB-wire server (nx-27017 with `patches`) as a child process, and its keeper."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..embedded_child import PARENT_ENV
from ..net import free_port, port_open

if TYPE_CHECKING:
    # Imported where used: `dialog run` spawns the server before PyMongo is loaded.
    from pymongo import AsyncMongoClient

    from ..documents import Document
    from ..settings import CommonSettings

log = logging.getLogger(__name__)


@dataclass
class EmbeddedMongo:
    """The nx-27017 wire server as a child process, storing to SQLite files in the data directory.

    Its address is written to `<data_dir>/nx-27017.json` so that a second command (for example
    `dialog kiosk add`) run beside `dialog run` uses the same server instead of opening the files
    a second time. A restart keeps the port, so clients already connected find it again.
    """

    data_dir: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    start_timeout_s: float = 30.0
    # The port `dialog run` is about to serve on: free until uvicorn binds it, so the system
    # could hand it to the server too (seen when the server was spawned early).
    avoid_port: int | None = None
    _deadline: float = field(default=0.0, repr=False)

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    @property
    def state_file(self) -> Path:
        return self.data_dir / "nx-27017.json"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "nx-27017.log"

    @classmethod
    def running(cls, data_dir: Path) -> EmbeddedMongo | None:
        """The server another process started on this data directory, if it still answers."""
        state = data_dir / "nx-27017.json"
        try:
            info = json.loads(state.read_text())
        except (OSError, ValueError):
            return None
        port = int(info.get("port", 0))
        if port and port_open("127.0.0.1", port):
            return cls(data_dir=data_dir, port=port)
        return None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _spawn(self) -> None:
        db_dir = self.data_dir / "db"
        db_dir.mkdir(parents=True, exist_ok=True)
        while not self.port or self.port == self.avoid_port:
            self.port = free_port()
        if port_open("127.0.0.1", self.port):
            # Whatever answers there is not ours; waiting for the port would mistake it for us.
            raise RuntimeError(f"port {self.port} is taken; the embedded server cannot start")
        cmd = [sys.executable, "-m", "dialog_platform.embedded_child"]
        cmd += ["--data-dir", str(db_dir), "--host", "127.0.0.1", "-p", str(self.port)]
        # nx-27017's default PID and log files are one per machine: the PID file refuses a
        # second server, and its output already goes to our log through stdout.
        cmd += ["--pid-file", str(self.data_dir / "nx-27017.pid"), "--log-file", os.devnull]
        # WAL with synchronous=NORMAL (neosqlite's default for WAL): a killed server loses no
        # committed write, so the supervisor may SIGKILL a hung one and start it again.
        with self.log_file.open("ab") as log_file:
            self.process = subprocess.Popen(  # noqa: S603 - our own argv, no shell
                cmd,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env={**os.environ, PARENT_ENV: str(os.getpid())},
            )

    def _started(self, deadline: float) -> bool:
        """True once the server answers; raises when it exited or the deadline passed."""
        assert self.process is not None
        if self.process.poll() is not None or time.monotonic() > deadline:
            self.kill()
            log_tail = self.log_file.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the embedded MongoDB-wire server did not start:\n{log_tail}")
        if not port_open("127.0.0.1", self.port):
            return False
        self.state_file.write_text(json.dumps({"port": self.port, "pid": self.process.pid}))
        log.info(
            "embedded MongoDB-wire server started",
            extra={"port": self.port, "pid": self.process.pid},
        )
        return True

    def start(self) -> None:
        self.spawn()
        self.wait_started()

    def spawn(self) -> None:
        """Start the child without waiting for it: it boots while this process goes on."""
        self._spawn()
        self._deadline = time.monotonic() + self.start_timeout_s

    def wait_started(self) -> None:
        """Block until the spawned server answers; raises if it exited or took too long."""
        while not self._started(self._deadline):
            time.sleep(0.05)

    async def start_async(self) -> None:
        """`start` for a running event loop, which must not block while the server boots."""
        self.spawn()
        # Polled: a child process has no awaitable "listening" signal.
        while True:
            if self._started(self._deadline):
                return
            await asyncio.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def _forget(self) -> None:
        self.process = None
        if not port_open("127.0.0.1", self.port):
            self.state_file.unlink(missing_ok=True)

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._forget()

    async def stop_async(self, grace_s: float = 2.0) -> None:
        """`stop` for a running event loop; a hung (or stopped) server is killed after `grace_s`."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + grace_s
            while True:
                if self.process.poll() is not None or time.monotonic() >= deadline:
                    break
                await asyncio.sleep(0.05)
            self.kill()
        self._forget()


def spawn_early(settings: CommonSettings, targets: list[str]) -> EmbeddedMongo | None:
    """Start the embedded server's child before `dialog run` imports the components.

    Its own boot (about a second of imports) then runs on the other core while the parent
    imports, instead of after; the runner waits for it where it would have started it. Only
    for several components in one process, which always hold documents; with a database URL,
    or a server already serving the data directory, there is nothing to start.
    """
    if settings.mongo_url is not None or len(targets) < 2:
        return None
    server = local_server(settings)
    if isinstance(server, str):
        return None
    server.spawn()
    return server


def local_server(settings: CommonSettings) -> EmbeddedMongo | str:
    """The server to start on the settings' data directory, or the URL of the one serving it.

    Another command (`dialog kiosk add` beside `dialog run`) uses the server already there
    rather than opening its files a second time.
    """
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    running = EmbeddedMongo.running(data_dir)
    if running is not None:
        return running.url
    return EmbeddedMongo(data_dir=data_dir, avoid_port=settings.port)


class EmbeddedSupervisor:
    """Keeps the embedded server this process started running, as an init system would.

    A server that exited is started again on its port with backoff; one that is alive but has
    not answered a ping for `hang_after_s` is killed first. Clients need nothing: PyMongo finds
    the server again on the same address. When restarts keep failing for `give_up_after_s`,
    `alive()` turns false so that `/livez` fails and the init system restarts the whole process.
    """

    def __init__(
        self,
        server: EmbeddedMongo,
        *,
        poll_s: float = 0.25,
        ping_every_s: float = 2.0,
        ping_timeout_s: float = 2.0,
        hang_after_s: float = 15.0,
        backoff_first_s: float = 0.25,
        backoff_max_s: float = 8.0,
        give_up_after_s: float = 60.0,
    ) -> None:
        self.server = server
        self.poll_s = poll_s
        self.ping_every_s = ping_every_s
        self.ping_timeout_s = ping_timeout_s
        self.hang_after_s = hang_after_s
        self.backoff_first_s = backoff_first_s
        self.backoff_max_s = backoff_max_s
        self.give_up_after_s = give_up_after_s
        self.restarts = 0
        self._failing_since: float | None = None
        self._task: asyncio.Task[None] | None = None
        # Its own client: a ping cut short by its timeout must not disturb the pool of the
        # client the components use.
        self._client: AsyncMongoClient[Document] | None = None

    def alive(self) -> bool:
        failing = self._failing_since
        return failing is None or time.monotonic() - failing < self.give_up_after_s

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(
            self._watch(), name="embedded-server supervisor"
        )

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close(), timeout=1.0)

    async def _answers(self) -> bool:
        if self._client is None:
            from pymongo import AsyncMongoClient

            timeout_ms = int(self.ping_timeout_s * 1000)
            self._client = AsyncMongoClient(
                self.server.url,
                serverSelectionTimeoutMS=timeout_ms,
                connectTimeoutMS=timeout_ms,
                socketTimeoutMS=timeout_ms,
            )
        try:
            await asyncio.wait_for(
                self._client.admin.command("ping"), timeout=self.ping_timeout_s + 1
            )
        except Exception:
            return False
        return True

    async def _watch(self) -> None:
        silent_since: float | None = None
        next_ping = time.monotonic() + self.ping_every_s
        while True:
            await asyncio.sleep(self.poll_s)
            if self.server.alive():
                now = time.monotonic()
                if now < next_ping:
                    continue
                if await self._answers():
                    silent_since = None
                else:
                    silent_since = silent_since or now
                    if now - silent_since >= self.hang_after_s:
                        log.error(
                            "embedded MongoDB-wire server hung; killing it",
                            extra={"silent_s": round(now - silent_since, 1)},
                        )
                        self.server.kill()
                next_ping = time.monotonic() + self.ping_every_s
                if self.server.alive():
                    continue
            silent_since = None
            await self._restart()
            next_ping = time.monotonic() + self.ping_every_s

    async def _restart(self) -> None:
        process = self.server.process
        log.error(
            "embedded MongoDB-wire server exited; restarting it",
            extra={"returncode": process.returncode if process else None},
        )
        began = time.monotonic()
        self._failing_since = began
        delay = self.backoff_first_s
        attempts = 0
        while True:
            attempts += 1
            try:
                await self.server.start_async()
            except Exception as exc:
                log.error(
                    "embedded MongoDB-wire server did not restart",
                    extra={"attempt": attempts, "error": str(exc)[-500:]},
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff_max_s)
                continue
            self.restarts += 1
            self._failing_since = None
            log.warning(
                "embedded MongoDB-wire server restarted",
                extra={"attempts": attempts, "down_s": round(time.monotonic() - began, 2)},
            )
            return
