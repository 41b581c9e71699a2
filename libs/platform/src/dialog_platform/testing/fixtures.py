"""Pytest plugin: fixtures that start real servers, shared by every test suite in the repo."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from .servers import embedded_mongo, ensure_rabbitmq, moto_s3, s3_media_url


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    try:
        return ensure_rabbitmq()
    except RuntimeError as exc:  # fail, never skip: these tests need the real broker
        pytest.fail(f"RabbitMQ is required: {exc}")


@pytest.fixture
async def bus_namespace(rabbitmq_url: str) -> AsyncIterator[str]:
    """A namespace of exchange and queue names of this test's own; deleted afterwards."""
    namespace = f"t{uuid.uuid4().hex[:10]}"
    yield namespace
    await delete_namespace(rabbitmq_url, namespace)


CLEANUP_CONNECT_S = 15.0


async def delete_namespace(url: str, namespace: str) -> None:
    import subprocess

    import aio_pika

    listing = await asyncio.to_thread(
        subprocess.run,
        ["rabbitmqctl", "list_queues", "-q", "--no-table-headers", "name"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    names = [n.strip() for n in listing.stdout.splitlines() if n.strip().startswith(namespace)]
    # A stuck broker accepts the connection and never answers: without a limit the clean-up
    # (a test's teardown, a bench's last step) would wait for it for good.
    connection = await aio_pika.connect(url, timeout=CLEANUP_CONNECT_S)
    try:
        for name in names:
            channel = await connection.channel()
            with contextlib.suppress(Exception):  # cleanup is best effort
                await channel.queue_delete(name)
        channel = await connection.channel()
        for exchange in (f"{namespace}.events", f"{namespace}.retry", f"{namespace}.dead"):
            try:
                await channel.exchange_delete(exchange)
            except Exception:
                channel = await connection.channel()
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def mongo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The nx-27017 wire server on a free loopback port (what production runs is real MongoDB)."""
    with embedded_mongo(tmp_path_factory.mktemp("nx")) as url:
        yield url


@pytest.fixture
def db_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with moto_s3() as endpoint:
        yield endpoint


@pytest.fixture
def s3_url(s3_endpoint: str) -> str:
    return s3_media_url(s3_endpoint, f"t{uuid.uuid4().hex[:12]}")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    return d
