"""Start the real servers the tests and `make run-distributed` use: RabbitMQ, nx-27017, moto S3."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..embedded import EmbeddedMongo
from ..net import free_port, port_open, wait_for_port

RABBITMQ_HOST = "127.0.0.1"
RABBITMQ_PORT = 5672
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"


# AMQP 0-9-1's protocol header; a broker answers it with its Connection.Start frame (type 1).
AMQP_HEADER = b"AMQP\x00\x00\x09\x01"
ANSWER_S = 10.0


def broker_answers(host: str, port: int, timeout: float = ANSWER_S) -> bool:
    """Whether the broker on `host:port` starts an AMQP handshake, not only accepts TCP."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.sendall(AMQP_HEADER)
            return conn.recv(1) == b"\x01"
    except OSError:  # refused, reset or timed out
        return False


def check_broker(host: str, port: int, timeout: float = ANSWER_S) -> None:
    """Raise RuntimeError, saying what to do, when the broker accepts connections but never
    answers: every client would wait on it (the tests until their timeouts, a bench forever)."""
    if not broker_answers(host, port, timeout):
        raise RuntimeError(
            f"RabbitMQ on {host}:{port} accepts connections but does not answer the AMQP "
            f"handshake within {timeout:g} s: the broker is stuck. Restart it (as root: "
            "rabbitmqctl stop, or kill its beam.smp; then rabbitmq-server -detached)."
        )


def ensure_rabbitmq(timeout: float = 90.0) -> str:
    """Return the local broker's URL, starting it with `rabbitmq-server -detached` if stopped.

    Raises RuntimeError (so tests fail loudly) when it cannot be reached or does not answer.
    """
    if port_open(RABBITMQ_HOST, RABBITMQ_PORT):
        check_broker(RABBITMQ_HOST, RABBITMQ_PORT)
        return RABBITMQ_URL
    exe = shutil.which("rabbitmq-server") or "/usr/sbin/rabbitmq-server"
    if not Path(exe).exists():
        raise RuntimeError("RabbitMQ is not on 127.0.0.1:5672 and rabbitmq-server is missing")
    subprocess.run([exe, "-detached"], check=False, timeout=60)  # noqa: S603
    try:
        wait_for_port(RABBITMQ_HOST, RABBITMQ_PORT, timeout=timeout)
    except TimeoutError as exc:
        raise RuntimeError("RabbitMQ did not come up on 127.0.0.1:5672") from exc
    # The port opens before the broker accepts logins; give it a moment to boot its apps.
    ctl = shutil.which("rabbitmqctl")
    if ctl:
        subprocess.run([ctl, "await_startup"], check=False, timeout=timeout, capture_output=True)  # noqa: S603
    check_broker(RABBITMQ_HOST, RABBITMQ_PORT)
    return RABBITMQ_URL


@contextmanager
def embedded_server(data_dir: Path) -> Iterator[EmbeddedMongo]:
    """The embedded MongoDB-wire server, for a caller that watches its process too."""
    server = EmbeddedMongo(data_dir=data_dir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def embedded_mongo(data_dir: Path) -> Iterator[str]:
    with embedded_server(data_dir) as server:
        yield server.url


@contextmanager
def moto_s3() -> Iterator[str]:
    """moto's S3 server on a free loopback port; yields its endpoint `127.0.0.1:PORT`."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        deadline = time.monotonic() + 20
        while not port_open("127.0.0.1", port):
            if time.monotonic() > deadline:
                raise RuntimeError("moto S3 server did not start")
            time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        server.stop()


def s3_media_url(endpoint: str, bucket: str) -> str:
    # moto accepts any credentials; these are its documented test keys.
    return f"s3://testing:testing-secret@{endpoint}/{bucket}?secure=false&region=us-east-1"
