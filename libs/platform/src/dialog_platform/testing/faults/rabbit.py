"""A RabbitMQ node of a fault run's own, to be killed and started again."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

from ...net import free_port, port_open


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
