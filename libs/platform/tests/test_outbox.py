"""The outbox against a real MongoDB-wire server: nothing is lost between save and publish."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from dialog_contracts import AnswerPosted, Envelope, EventData
from dialog_platform.bus import Bus, PublishError
from dialog_platform.documents import connect
from dialog_platform.outbox import Outbox, Pending


class RecordingBus(Bus):
    """A bus double for the outbox's side only: records publishes, can be told to fail."""

    def __init__(self) -> None:
        self.published: list[tuple[Envelope, str]] = []
        self.fail = False
        self.gate: asyncio.Event | None = None  # while set to an unset event, publish hangs

    def _started_or_closed(self) -> bool:
        return True  # nothing is delivered here

    async def start(self) -> None: ...
    async def close(self) -> None: ...

    async def publish(self, envelope: Envelope, routing_key: str) -> None:
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise PublishError("broker down")
        self.published.append((envelope, routing_key))

    async def ensure_queue(
        self, consumer: str, event: type[EventData], key_suffix: str
    ) -> None: ...

    async def ping(self) -> bool:
        return not self.fail


def answer(n: int) -> AnswerPosted:
    from datetime import UTC, datetime

    return AnswerPosted(
        appeal_id=f"a{n}",
        registration_number="2026-000001-0",
        official_id="akim",
        answered_at=datetime(2026, 11, 20, tzinfo=UTC),
        has_video=False,
    )


@pytest.fixture
async def db(mongo_url: str, db_prefix: str) -> Any:
    client: AsyncMongoClient[dict[str, Any]] = connect(mongo_url)
    yield client[f"{db_prefix}_svc"]
    await client.drop_database(f"{db_prefix}_svc")
    await client.close()


async def test_state_and_events_commit_together(db: AsyncDatabase[dict[str, Any]]) -> None:
    bus = RecordingBus()
    outbox = Outbox(db, bus, source="/dialog/test")

    async def change(tx: Pending) -> str:
        await db.things.insert_one({"_id": "t1", "state": "done"}, session=tx.session)
        tx.add(answer(1))
        return "ok"

    assert await outbox.run(change) == "ok"
    assert await db.things.count_documents({}) == 1
    assert await db.outbox.count_documents({"state": "pending"}) == 1
    # The process "crashes" here: nothing was published yet. A new relay finds the event.
    fresh = Outbox(db, bus, source="/dialog/test")
    assert await fresh.relay_once() == 1
    assert [e.type for e, _ in bus.published] == [AnswerPosted.TYPE]
    assert bus.published[0][1] == "answer.posted"
    assert await fresh.relay_once() == 0


async def test_a_failed_change_leaves_neither_state_nor_events(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    outbox = Outbox(db, RecordingBus(), source="/dialog/test")
    await outbox.create_indexes()
    await db.things.create_index("state")

    async def change(tx: Pending) -> None:
        await db.things.insert_one({"_id": "t2"}, session=tx.session)
        tx.add(answer(2))
        raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        await outbox.run(change)
    assert await db.things.count_documents({"_id": "t2"}) == 0
    assert await db.outbox.count_documents({}) == 0


async def test_publish_failure_keeps_the_event_until_the_broker_is_back(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    bus = RecordingBus()
    outbox = Outbox(db, bus, source="/dialog/test")

    async def change(tx: Pending) -> None:
        tx.add(answer(3))
        tx.add(answer(4))

    await outbox.run(change)
    bus.fail = True
    assert await outbox.relay_once() == 0
    assert await db.outbox.count_documents({"state": "pending"}) == 2
    bus.fail = False
    await db.outbox.update_many({}, {"$set": {"lease_until": 0.0}})  # the retry delay passes
    assert await outbox.relay_once() == 2
    # In the order they were saved.
    assert [e.data["appeal_id"] for e, _ in bus.published] == ["a3", "a4"]


async def test_the_relay_removes_sent_envelopes_after_a_week_and_keeps_newer_ones(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    bus = RecordingBus()
    outbox = Outbox(db, bus, source="/dialog/test")

    async def change(tx: Pending) -> None:
        tx.add(answer(5))
        tx.add(answer(6))

    await outbox.run(change)
    assert await outbox.relay_once() == 2
    now = datetime.now(UTC)
    [old, new] = [d["_id"] async for d in db.outbox.find({}, sort=[("created_at", 1)])]
    await db.outbox.update_one({"_id": old}, {"$set": {"sent_at": now - timedelta(days=8)}})
    await db.outbox.update_one({"_id": new}, {"$set": {"sent_at": now - timedelta(days=6)}})
    outbox.start(interval=0.05)
    try:
        for _ in range(100):
            if await db.outbox.count_documents({"_id": old}) == 0:
                break
            await asyncio.sleep(0.05)
        assert [d["_id"] async for d in db.outbox.find({})] == [new]
        assert len(bus.published) == 2  # nothing was published again
    finally:
        await outbox.stop()


async def _eventually(check: Callable[[], Awaitable[bool]], seconds: float = 5.0) -> bool:
    for _ in range(int(seconds / 0.02)):
        if await check():
            return True
        await asyncio.sleep(0.02)
    return False


def _sent(db: AsyncDatabase[dict[str, Any]], count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await db.outbox.count_documents({"state": "sent"}) == count

    return check


async def test_a_running_relay_publishes_what_its_process_commits_without_polling(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    bus = RecordingBus()
    outbox = Outbox(db, bus, source="/dialog/test")
    # The database is looked at once, at the start, then not for a minute.
    outbox.start(interval=60)
    try:
        await asyncio.sleep(0.1)

        async def change(tx: Pending) -> None:
            tx.add(answer(7))
            tx.add(answer(8))

        await outbox.run(change)

        assert await _eventually(_sent(db, 2))
        assert [e.data["appeal_id"] for e, _ in bus.published] == ["a7", "a8"]
    finally:
        await outbox.stop()


async def test_what_a_crashed_writer_leased_is_relayed_once_its_lease_runs_out(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    bus = RecordingBus()
    bus.gate = asyncio.Event()  # the writer never gets to publish
    writer = Outbox(db, bus, source="/dialog/test")
    writer.start(interval=60)
    try:

        async def change(tx: Pending) -> None:
            tx.add(answer(9))

        await writer.run(change)
        await asyncio.sleep(0.1)
        # The writer "crashes": its relay dies without handing anything back.
        assert writer._task is not None
        writer._task.cancel()
        other = Outbox(db, RecordingBus(), source="/dialog/test")
        assert await other.relay_once() == 0  # leased: the writer may still be publishing it
        await db.outbox.update_many({}, {"$set": {"lease_until": 0.0}})  # the lease runs out
        assert await other.relay_once() == 1
        assert bus.published == []
    finally:
        writer._committed.clear()
        await writer.stop()


async def test_a_stopping_relay_hands_what_it_did_not_publish_to_the_next_at_once(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    bus = RecordingBus()
    bus.gate = asyncio.Event()
    outbox = Outbox(db, bus, source="/dialog/test")
    outbox.start(interval=60)

    async def change(tx: Pending) -> None:
        tx.add(answer(10))
        tx.add(answer(11))

    await outbox.run(change)
    await asyncio.sleep(0.1)  # the first publish hangs
    await outbox.stop()
    nxt = RecordingBus()
    assert await Outbox(db, nxt, source="/dialog/test").relay_once() == 2
    assert [e.data["appeal_id"] for e, _ in nxt.published] == ["a10", "a11"]


async def test_a_refused_publish_from_memory_is_retried_in_order_once_the_broker_is_back(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    bus = RecordingBus()
    bus.fail = True
    outbox = Outbox(db, bus, source="/dialog/test")
    outbox.start(interval=0.05)
    try:

        async def change(tx: Pending) -> None:
            tx.add(answer(12))
            tx.add(answer(13))

        await outbox.run(change)
        await asyncio.sleep(0.3)
        assert await db.outbox.count_documents({"state": "pending"}) == 2
        bus.fail = False

        assert await _eventually(_sent(db, 2))
        assert [e.data["appeal_id"] for e, _ in bus.published] == ["a12", "a13"]
    finally:
        await outbox.stop()
