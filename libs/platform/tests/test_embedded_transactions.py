"""The embedded server keeps concurrent transactions apart, as MongoDB does.

nx-27017 runs each transaction as a SAVEPOINT on one SQLite connection per database, so
without the gate in dialog_platform.embedded.patches two open transactions nest: one's commit fails
with "no such savepoint" and one's abort takes others' writes with it.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import OperationFailure

from dialog_platform.documents import connect
from dialog_platform.embedded.gate import ABANDONED_AFTER_S, TransactionGate, TransactionRolledBack
from dialog_platform.embedded.server import EmbeddedMongo


async def test_concurrent_transactions_and_plain_writes_all_land(
    mongo_url: str, db_prefix: str
) -> None:
    client = connect(mongo_url)
    db = client[f"{db_prefix}_gate"]
    await db.doc.insert_one({"_id": "appeal"})

    async def in_transaction(i: int, *, abort: bool) -> None:
        async with client.start_session() as session:
            await session.start_transaction()
            await db.doc.update_one({"_id": "appeal"}, {"$set": {f"tx{i}": i}}, session=session)
            await asyncio.sleep(0.01)  # others' requests arrive while this one is open
            await db.events.insert_one({"i": i}, session=session)
            if abort:
                await session.abort_transaction()
            else:
                await session.commit_transaction()

    async def plain(i: int) -> None:
        await db.doc.update_one({"_id": "appeal"}, {"$set": {f"plain{i}": i}})

    try:
        await asyncio.gather(
            *(in_transaction(i, abort=i % 5 == 0) for i in range(15)),
            *(plain(i) for i in range(15)),
        )
        doc = await db.doc.find_one({"_id": "appeal"})
        assert doc is not None
        committed = {i for i in range(15) if i % 5}
        assert {k for k in doc if k.startswith("tx")} == {f"tx{i}" for i in committed}
        assert {k for k in doc if k.startswith("plain")} == {f"plain{i}" for i in range(15)}
        assert {e["i"] async for e in db.events.find()} == committed
    finally:
        await client.drop_database(f"{db_prefix}_gate")
        await client.close()


async def test_a_transaction_that_first_reads_a_new_collection_commits(
    mongo_url: str, db_prefix: str
) -> None:
    """A booth's first health record: read (nothing yet), then write, in one transaction.

    nx-27017 answered the read before opening the transaction, so the writes ran on their own
    and the commit failed ("No session specified"). Aborting such a transaction still leaves
    the embedded server unsure of the new collection, as MongoDB before 4.4 refused to create
    one inside a transaction at all: repositories create theirs at start.
    """
    client = connect(mongo_url)
    db = client[f"{db_prefix}_first"]

    async def record(session: Any) -> None:
        assert await db.health.find_one({"_id": "booth"}, session=session) is None
        await db.health.insert_one({"_id": "booth"}, session=session)
        await db.outbox.insert_one({"event": "health-changed"}, session=session)

    try:
        async with client.start_session() as session:
            await session.with_transaction(record)
        assert await db.health.count_documents({}) == 1
        assert await db.outbox.count_documents({}) == 1
    finally:
        await client.drop_database(f"{db_prefix}_first")
        await client.close()


async def test_a_crowd_waiting_for_a_transaction_does_not_stall_it(
    mongo_url: str, db_prefix: str
) -> None:
    """More requests wait behind an open transaction than the server has worker threads.

    The waiters used to wait on worker threads; with all of them waiting, the transaction's
    next command found no thread to run on, and after 15 s the server took it for abandoned and
    rolled it back ("transaction abandoned", then "no such savepoint" at commit).
    """
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongo_url, tz_aware=True, maxPoolSize=200
    )
    db = client[f"{db_prefix}_crowd"]
    crowd = 150
    await db.doc.insert_one({"_id": "appeal"})
    await db.events.insert_one({"i": -1})
    try:
        async with client.start_session() as session:
            await session.start_transaction()
            await db.doc.update_one({"_id": "appeal"}, {"$set": {"tx": 1}}, session=session)
            waiting = [
                asyncio.create_task(db.doc.update_one({"_id": "appeal"}, {"$inc": {"n": 1}}))
                for _ in range(crowd)
            ]
            await asyncio.sleep(0.5)  # every one of them is at the server and waits
            async with asyncio.timeout(5):
                await db.events.insert_one({"i": 1}, session=session)
                await session.commit_transaction()
            async with asyncio.timeout(20):
                await asyncio.gather(*waiting)
        doc = await db.doc.find_one({"_id": "appeal"})
        assert doc is not None
        assert doc["tx"] == 1
        assert doc["n"] == crowd
        assert await db.events.count_documents({"i": 1}) == 1
    finally:
        await client.drop_database(f"{db_prefix}_crowd")
        await client.close()


def _command(database: str, session: str | None = None, **fields: Any) -> dict[str, Any]:
    command: dict[str, Any] = {"$db": database, **fields}
    if session is not None:
        command["lsid"] = {"id": session}
    return command


# Well inside the gate's own look every 0.5 s: a waiter let in this soon was woken by the change.
PROMPT_S = 0.2


async def test_the_gate_lets_each_waiter_in_as_soon_as_what_held_it_ends() -> None:
    gate = TransactionGate(abandoned_after_s=60)

    # A plain write waits for the open transaction of its database, and only of its own.
    start = _command("a", "s1", startTransaction=True)
    assert await gate.enter(start) is None
    gate.leave(start, None)
    held = asyncio.create_task(gate.enter(_command("a")))
    assert await asyncio.wait_for(gate.enter(_command("b")), PROMPT_S) == "b"
    await asyncio.sleep(0.05)
    assert not held.done()
    commit = _command("a", "s1", commitTransaction=1)
    assert await gate.enter(commit) is None
    gate.leave(commit, None)
    assert await asyncio.wait_for(held, PROMPT_S) == "a"

    # A transaction starts once the last plain write of its database is out.
    starting = asyncio.create_task(gate.enter(_command("a", "s2", startTransaction=True)))
    await asyncio.sleep(0.05)
    assert not starting.done()
    gate.leave(_command("a"), "a")
    assert await asyncio.wait_for(starting, PROMPT_S) is None
    gate.leave(_command("a", "s2", abortTransaction=1), None)

    # Plain writes held back for a transaction that gave up before it started go on.
    plain_b = _command("b")
    waiting_start = asyncio.create_task(gate.enter(_command("b", "s3", startTransaction=True)))
    await asyncio.sleep(0.05)
    held_back = asyncio.create_task(gate.enter(_command("b")))
    await asyncio.sleep(0.05)
    assert not held_back.done()
    waiting_start.cancel()
    assert await asyncio.wait_for(held_back, PROMPT_S) == "b"
    gate.leave(plain_b, "b")
    gate.leave(plain_b, "b")


async def test_an_abandoned_transaction_is_rolled_back_before_anyone_goes_on() -> None:
    rolled_back: list[tuple[str, str]] = []

    async def roll_back(session: str, database: str) -> None:
        rolled_back.append((session, database))

    gate = TransactionGate(abandoned_after_s=0.3, roll_back=roll_back)
    start = _command("a", "dead", startTransaction=True, txnNumber=1)
    assert await gate.enter(start) is None
    gate.leave(start, None)

    # Its client went silent: the next request waits out the silence, then finds it undone.
    waiting = asyncio.create_task(gate.enter(_command("a")))
    await asyncio.sleep(0.1)
    assert not waiting.done() and not rolled_back
    assert await asyncio.wait_for(waiting, 2.0) == "a"
    assert rolled_back == [("dead", "a")]
    gate.leave(_command("a"), "a")

    # A client that was only slow gets an error for the rest of it, not a half-done write …
    with pytest.raises(TransactionRolledBack, match="rolled back"):
        await gate.enter(_command("a", "dead", txnNumber=1))
    # … and its next transaction starts as any other.
    again = _command("a", "dead", startTransaction=True, txnNumber=2)
    assert await asyncio.wait_for(gate.enter(again), PROMPT_S) is None
    gate.leave(_command("a", "dead", commitTransaction=1, txnNumber=2), None)
    assert rolled_back == [("dead", "a")]


async def test_a_transaction_whose_connections_all_closed_is_rolled_back_at_once() -> None:
    """A killed client closes every connection it had: its transaction is rolled back as soon
    as the last one that carried it is gone, not after the silence the gate otherwise waits
    out. One closed connection of several is no proof (pymongo uses any of its pool)."""
    rolled_back: list[tuple[str, str]] = []

    async def roll_back(session: str, database: str) -> None:
        rolled_back.append((session, database))

    gate = TransactionGate(abandoned_after_s=60, roll_back=roll_back)
    start = _command("a", "dead", startTransaction=True, txnNumber=1)
    assert await gate.enter(start, "c1") is None
    gate.leave(start, None)
    more = _command("a", "dead", txnNumber=1)
    assert await gate.enter(more, "c2") is None
    gate.leave(more, None)

    waiting = asyncio.create_task(gate.enter(_command("a"), "c3"))
    gate.connection_closed("c1")
    gate.connection_closed("c3-never-carried-it")
    await asyncio.sleep(0.7)  # past the gate's own look every 0.5 s
    assert not waiting.done() and not rolled_back
    gate.connection_closed("c2")
    assert await asyncio.wait_for(waiting, PROMPT_S) == "a"
    assert rolled_back == [("dead", "a")]
    gate.leave(_command("a"), "a")


async def test_a_transaction_whose_client_died_before_it_began_holds_no_one_up() -> None:
    """The client's connection closed while its transaction waited for the database (behind a
    plain write): once let in, nothing of it will ever come again, so it holds no one up."""
    rolled_back: list[tuple[str, str]] = []

    async def roll_back(session: str, database: str) -> None:
        rolled_back.append((session, database))

    gate = TransactionGate(abandoned_after_s=60, roll_back=roll_back)
    plain = _command("a")
    assert await gate.enter(plain, "c0") == "a"
    start = _command("a", "dead", startTransaction=True, txnNumber=1)
    starting = asyncio.create_task(gate.enter(start, "c1"))
    await asyncio.sleep(0.1)
    gate.connection_closed("c1")
    gate.leave(plain, "a")
    assert await asyncio.wait_for(starting, PROMPT_S) is None
    gate.leave(start, None)
    assert await asyncio.wait_for(gate.enter(_command("a"), "c2"), PROMPT_S) == "a"
    assert rolled_back == [("dead", "a")]


_DYING_CLIENT = """
import sys, time
from pymongo import MongoClient
client = MongoClient(sys.argv[1])
session = client.start_session()
session.start_transaction()
client.gw.appeals.update_one({"_id": "ap"}, {"$set": {"status": "submitted"}}, session=session)
print("half-way", flush=True)
time.sleep(600)
"""


async def test_a_killed_service_holds_its_database_no_longer_than_its_connections_live(
    tmp_path: Path,
) -> None:
    """A service killed halfway through a transaction held its database for the gate's 15 s of
    silence, so its restart (and everyone else there) waited that long. Its closed connections
    now end the wait: the half is undone and the next write goes ahead within a second or so."""
    server = EmbeddedMongo(data_dir=tmp_path)
    server.start()
    alive: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(server.url)
    dying = None
    try:
        await alive.gw.appeals.insert_one({"_id": "ap", "status": "uploaded"})
        dying = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _DYING_CLIENT, server.url, stdout=asyncio.subprocess.PIPE
        )
        assert dying.stdout is not None
        assert await asyncio.wait_for(dying.stdout.readline(), 30) == b"half-way\n"
        dying.kill()
        await dying.wait()
        started = time.monotonic()
        await asyncio.wait_for(alive.gw.later.insert_one({"_id": "after"}), ABANDONED_AFTER_S)
        assert time.monotonic() - started < 3.0
        appeal = await alive.gw.appeals.find_one({"_id": "ap"})
        assert appeal is not None and appeal["status"] == "uploaded"
    finally:
        if dying is not None and dying.returncode is None:
            dying.kill()
            await dying.wait()
        await alive.close()
        server.stop()


async def test_a_killed_clients_half_transaction_is_undone_and_what_came_after_is_kept(
    tmp_path: Path,
) -> None:
    """A service killed halfway through registering an appeal left its writes open on the
    database's one connection: the next plain write made the half look done (an appeal
    registered whose events were never written, so no receipt, case or SMS), and every write
    after it, acknowledged, lived inside that transaction and was gone after a server restart."""
    server = EmbeddedMongo(data_dir=tmp_path)
    server.start()
    dead: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(server.url)
    alive: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(server.url)
    try:
        await alive.gw.appeals.insert_one({"_id": "ap", "status": "uploaded"})
        session = dead.start_session()
        await session.start_transaction()
        await dead.gw.appeals.update_one(
            {"_id": "ap"}, {"$set": {"status": "submitted"}}, session=session
        )
        # The registering process dies here: no commit, no abort ever comes.

        async with asyncio.timeout(ABANDONED_AFTER_S + 10):
            await alive.gw.later.insert_one({"_id": "after"})
        appeal = await alive.gw.appeals.find_one({"_id": "ap"})
        assert appeal is not None and appeal["status"] == "uploaded"
        # Had the client only been slow, the rest of its transaction is refused as MongoDB
        # refuses one it aborted, labelled for with_transaction to run it all again.
        with pytest.raises(OperationFailure) as refused:
            await dead.gw.outbox.insert_one({"_id": "half"}, session=session)
        assert refused.value.code == 251
        assert refused.value.has_error_label("TransientTransactionError")
        async with alive.start_session() as own:

            async def register(s: Any) -> None:
                await alive.gw.appeals.update_one(
                    {"_id": "ap"}, {"$set": {"status": "submitted", "by": "retry"}}, session=s
                )
                await alive.gw.outbox.insert_one({"_id": "recorded"}, session=s)

            await own.with_transaction(register)

        server.stop()
        server.start()
        after: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(server.url)
        try:
            appeal = await after.gw.appeals.find_one({"_id": "ap"})
            assert appeal is not None and appeal.get("by") == "retry"
            assert await after.gw.outbox.count_documents({}) == 1
            assert await after.gw.later.count_documents({}) == 1
        finally:
            await after.close()
    finally:
        await dead.close()
        await alive.close()
        server.stop()
