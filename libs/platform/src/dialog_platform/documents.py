"""Documents: PyMongo's async client, against real MongoDB or the embedded nx-27017 server.

One adapter, two servers. Each service owns one database, `<db_prefix>_<service>`.
"""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from .net import free_port, port_open

log = logging.getLogger(__name__)

Document = dict[str, Any]


def database_name(prefix: str, service: str) -> str:
    return f"{prefix}_{service.replace('-', '_')}"


def connect(url: str) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(url, tz_aware=True, serverSelectionTimeoutMS=5000)


def service_database(
    client: AsyncMongoClient[Document], prefix: str, service: str
) -> AsyncDatabase[Document]:
    return client[database_name(prefix, service)]


@dataclass
class EmbeddedMongo:
    """The nx-27017 wire server as a child process, storing to SQLite files in the data directory.

    Its address is written to `<data_dir>/nx-27017.json` so that a second command (for example
    `dialog kiosk add`) run beside `dialog run` uses the same server instead of opening the files
    a second time.
    """

    data_dir: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    @property
    def state_file(self) -> Path:
        return self.data_dir / "nx-27017.json"

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

    def start(self) -> None:
        db_dir = self.data_dir / "db"
        db_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        cmd = [sys.executable, "-m", "dialog_platform.embedded_nx"]
        cmd += ["--data-dir", str(db_dir), "--host", "127.0.0.1", "-p", str(self.port)]
        # nx-27017's default PID file is one per machine and refuses a second server.
        cmd += ["--pid-file", str(self.data_dir / "nx-27017.pid")]
        log_file = (self.data_dir / "nx-27017.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own argv, no shell
            cmd,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log_file.close()
        deadline = time.monotonic() + 30
        while not port_open("127.0.0.1", self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                log_tail = (self.data_dir / "nx-27017.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the embedded MongoDB-wire server did not start:\n{log_tail}")
            time.sleep(0.05)
        self.state_file.write_text(json.dumps({"port": self.port, "pid": self.process.pid}))
        log.info("embedded MongoDB-wire server started", extra={"port": self.port})

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if not port_open("127.0.0.1", self.port):
            self.state_file.unlink(missing_ok=True)
