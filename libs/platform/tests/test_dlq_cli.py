"""`dialog dlq …` run as a program, against RabbitMQ and against the single process's store."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from dialog_contracts import AppealRouted, Envelope, queue_name
from dialog_platform.bus import AmqpBus, RetryPolicy
from dialog_platform.bus.deadletters import StoredDeadLetters
from dialog_platform.testing.launch import dialog_exe

from .test_bus_amqp import routed


async def dlq(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DIALOG_")}
    return await asyncio.to_thread(
        subprocess.run,
        [dialog_exe(), "dlq", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_the_command_lists_shows_and_replays_rabbitmq_dead_letters(
    rabbitmq_url: str, bus_namespace: str
) -> None:
    handled: list[str] = []
    broken = True

    async def handler(envelope: Envelope) -> None:
        if broken:
            raise ValueError("cannot handle this one")
        handled.append(envelope.id)

    bus = AmqpBus(rabbitmq_url, namespace=bus_namespace, retry=RetryPolicy(2, delays_s=(0.1,)))
    bus.subscribe("notifier", AppealRouted, handler)
    await bus.start()
    env = {"DIALOG_BUS_URL": rabbitmq_url, "DIALOG_BUS_NAMESPACE": bus_namespace}
    name = queue_name(bus_namespace, "notifier", AppealRouted) + ".dlq"
    try:
        envelope = routed()
        await bus.publish(envelope, AppealRouted.ROUTING_KEY)
        deadline = time.monotonic() + 20
        while True:
            listing = await dlq(env, "list")
            assert listing.returncode == 0, listing.stderr
            line = next(ln for ln in listing.stdout.splitlines() if ln.startswith(name))
            if line.split()[1] == "1":
                break
            assert time.monotonic() < deadline, listing.stdout
            await asyncio.sleep(0.3)
        assert "ValueError: cannot handle this one" in line
        assert "QUEUE" in listing.stdout and "1 dead letter(s) in 1 queue(s)" in listing.stdout

        shown = await dlq(env, "show", name)
        assert shown.returncode == 0, shown.stderr
        assert envelope.id in shown.stdout and AppealRouted.TYPE in shown.stdout
        assert "2025-000001-7" not in shown.stdout  # no payload

        unknown = await dlq(env, "show", "nobody.nothing")
        assert unknown.returncode == 2 and "no dead-letter queue" in unknown.stderr
        neither = await dlq(env, "replay", name)
        assert neither.returncode == 2  # --id or --all is required

        broken = False
        replayed = await dlq(env, "replay", name, "--all")
        assert replayed.returncode == 0, replayed.stderr
        assert "replayed 1 message(s)" in replayed.stdout
        deadline = time.monotonic() + 15
        while handled != [envelope.id]:
            assert time.monotonic() < deadline, handled
            await asyncio.sleep(0.1)
        gone = await dlq(env, "drop", name, "--id", envelope.id)
        assert gone.returncode == 1
    finally:
        await bus.close()


@pytest.fixture
async def store(mongo_url: str, db_prefix: str) -> AsyncIterator[StoredDeadLetters]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    yield StoredDeadLetters(client[f"{db_prefix}_bus"])
    await client.drop_database(f"{db_prefix}_bus")
    await client.close()


async def test_the_command_works_on_the_single_process_store(
    store: StoredDeadLetters, mongo_url: str, db_prefix: str
) -> None:
    one, two = routed(), routed()
    await store.record(one, "dashboard", "RuntimeError: one", 5)
    await store.record(two, "dashboard", "RuntimeError: two", 5)
    env = {"DIALOG_MONGO_URL": mongo_url, "DIALOG_DB_PREFIX": db_prefix}
    name = "dashboard.appeal-routed.dlq"

    listing = await dlq(env, "list")
    assert listing.returncode == 0, listing.stderr
    line = next(ln for ln in listing.stdout.splitlines() if ln.startswith(name))
    assert line.split()[1] == "2" and "RuntimeError: two" in line

    dropped = await dlq(env, "drop", name, "--id", one.id)
    assert dropped.returncode == 0, dropped.stderr
    replayed = await dlq(env, "replay", "dashboard.appeal-routed", "--id", two.id)
    assert replayed.returncode == 0, replayed.stderr
    assert await store.take_replays() == [("dashboard", two)]
