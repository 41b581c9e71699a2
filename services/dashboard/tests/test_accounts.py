"""Accounts and sessions against the real MongoDB-wire server, with a clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from dashboard import repository as repo
from dashboard.accounts import AccountInvalid, Accounts, LoginLocked
from dashboard.settings import DashboardSettings
from dialog_platform.ratelimit import SlidingWindow


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def db(mongo_url: str, db_prefix: str) -> AsyncIterator[Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    database = client[f"{db_prefix}_dashboard"]
    await repo.create_indexes(database)
    yield database
    await client.drop_database(database.name)
    await client.close()


def accounts(db: Any, clock: Clock, *, per_ip: int = 100) -> Accounts:
    settings = DashboardSettings(login_failures=5, login_lock_s=900, session_ttl_s=3600)
    return Accounts(
        db=db,
        settings=settings,
        clock=clock,
        ip_limiter=SlidingWindow(per_ip, 60.0, clock=lambda: clock.now.timestamp()),
    )


async def test_passwords_are_stored_as_argon2_hashes(db: Any) -> None:
    a = accounts(db, Clock())
    await a.add(login="aigerim", role="official", official_id="akim", password="long-password-1")
    stored = await repo.get_account(db, login="aigerim")
    assert stored is not None
    assert stored["password_hash"].startswith("$argon2id$")
    assert "long-password-1" not in str(stored)
    assert await a.authenticate("aigerim", "long-password-1", ip="10.0.0.1") is not None
    assert await a.authenticate("AIGERIM ", "long-password-1", ip="10.0.0.1") is not None
    assert await a.authenticate("aigerim", "long-password-2", ip="10.0.0.1") is None
    with pytest.raises(AccountInvalid) as short:
        await a.add(login="x2", role="controller", official_id=None, password="short")
    assert short.value.field == "password"
    with pytest.raises(AccountInvalid) as role:
        await a.add(login="x3", role="root", official_id=None, password="long-password-1")
    assert role.value.field == "role"


async def test_a_locked_login_opens_again_when_the_window_passes(db: Any) -> None:
    clock = Clock()
    a = accounts(db, clock)
    await a.add(login="bolat", role="controller", official_id=None, password="long-password-1")
    for _ in range(5):
        assert await a.authenticate("bolat", "wrong-wrong", ip="10.0.0.2") is None
        clock.now += timedelta(seconds=10)
    with pytest.raises(LoginLocked) as locked:
        await a.authenticate("bolat", "long-password-1", ip="10.0.0.2")
    # The first failure leaves the 15-minute window 15 min after it was made.
    assert 800 < locked.value.retry_after_s <= 900
    clock.now += timedelta(seconds=locked.value.retry_after_s)
    assert await a.authenticate("bolat", "long-password-1", ip="10.0.0.2") is not None
    # A success clears the count: five more tries before the next lock.
    for _ in range(4):
        assert await a.authenticate("bolat", "wrong-wrong", ip="10.0.0.2") is None
    assert await a.authenticate("bolat", "long-password-1", ip="10.0.0.2") is not None


async def test_one_client_trying_many_logins_is_limited(db: Any) -> None:
    clock = Clock()
    a = accounts(db, clock, per_ip=3)
    for n in range(3):
        assert await a.authenticate(f"guess{n}", "whatever-1", ip="10.0.0.3") is None
    with pytest.raises(LoginLocked):
        await a.authenticate("guess9", "whatever-1", ip="10.0.0.3")
    # Another client is not affected; the first one may try again a minute later.
    assert await a.authenticate("guess9", "whatever-1", ip="10.0.0.4") is None
    clock.now += timedelta(seconds=61)
    assert await a.authenticate("guess9", "whatever-1", ip="10.0.0.3") is None


async def test_sessions_expire_when_idle_and_end_with_the_account(db: Any) -> None:
    clock = Clock()
    a = accounts(db, clock)
    account = await a.add(
        login="dana", role="official", official_id="akim", password="long-password-1"
    )
    session = await a.new_session(account, ip="10.0.0.5")
    clock.now += timedelta(minutes=50)
    assert (await a.session(session.id)) is not None  # in use: pushed forward
    clock.now += timedelta(minutes=50)
    assert (await a.session(session.id)) is not None
    clock.now += timedelta(minutes=61)
    assert (await a.session(session.id)) is None  # idle longer than the TTL
    again = await a.new_session(account, ip="10.0.0.5")
    assert await a.deactivate("dana")
    assert (await a.session(again.id)) is None
    assert await a.authenticate("dana", "long-password-1", ip="10.0.0.5") is None
    assert (await a.session("x" * 500)) is None
