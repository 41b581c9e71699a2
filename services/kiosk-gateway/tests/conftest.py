"""One real `dialog run` (embedded backends) for the gateway's API and browser tests.

Everything is the real system, the dashboard included: an appeal is answered by logging in to the
process's own dashboard as a demo official. A test that must replay an event (a redelivery, a
late one) puts the dashboard's own envelope into the gateway's outbox, so it enters the running
process's in-process bus by the path every published event takes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from dialog_contracts import AnswerPosted
from dialog_platform.testing import dashboard
from dialog_platform.testing.launch import TEST_SECRET, SingleProcess

# Short limits and idle times so the browser tests take seconds, not minutes.
BASE_S = 10
EXTENSION_S = 5
IDLE_S = 8
IDLE_CONFIRM_S = 4
INTERNAL = {
    "X-Dialog-Internal": hmac.new(
        TEST_SECRET.encode(), b"dialog-internal-v1", hashlib.sha256
    ).hexdigest()
}


# The development demo seeds one dashboard account per official, named after it.
OFFICIAL = "deputy-housing"
DEMO_SEEDED = "Demo dashboard accounts"


def demo_password(login: str) -> str:
    return f"dialog-{login}"


@dataclass
class Booth:
    """The running system as the gateway's tests see it."""

    runner: SingleProcess
    data_dir: Path
    mongo_url: str

    @property
    def url(self) -> str:
        return self.runner.url

    @property
    def receipts(self) -> Path:
        return self.data_dir / "receipts"

    @property
    def media(self) -> Path:
        return self.data_dir / "media"

    def kiosk_add(
        self, location: str = "Өскемен, №1 ХҚКО / Усть-Каменогорск, ЦОН №1"
    ) -> tuple[str, str]:
        kiosk_id = f"booth-{uuid.uuid4().hex[:8]}"
        return kiosk_id, self.runner.kiosk_add(kiosk_id, location)

    async def appeals(self, kiosk_id: str) -> list[dict[str, Any]]:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(self.mongo_url, tz_aware=True)
        try:
            db = client["dialog_kiosk_gateway"]
            return [a async for a in db.appeals.find({"kiosk_id": kiosk_id})]
        finally:
            await client.close()

    async def answer(
        self, appeal_id: str, text: str, video: bytes | None = None, *, official: str = OFFICIAL
    ) -> dashboard.Posted:
        """The official answers (or corrects the answer) on the process's own dashboard."""
        return await dashboard.answer(
            self.url,
            login=official,
            password=demo_password(official),
            appeal_id=appeal_id,
            text=text,
            video=video,
        )

    async def answers_posted(self, appeal_id: str) -> list[dict[str, Any]]:
        """The dashboard's outbox entries of its AnswerPosted for the appeal, oldest first."""
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(self.mongo_url, tz_aware=True)
        try:
            found = client["dialog_dashboard"].outbox.find(
                {"envelope.type": AnswerPosted.TYPE, "envelope.data.appeal_id": appeal_id},
                sort=[("created_at", 1)],
            )
            return [doc async for doc in found]
        finally:
            await client.close()

    async def replay(self, sent: dict[str, Any]) -> None:
        """Deliver an outbox entry's envelope again, unchanged (its id included), as a
        redelivery or a late arrival would; relayed by the gateway's outbox."""
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(self.mongo_url, tz_aware=True)
        try:
            await client["dialog_kiosk_gateway"].outbox.insert_one(
                {
                    # The envelope keeps its id; only this outbox entry is new.
                    "_id": f"replay-{uuid.uuid4().hex}",
                    "routing_key": sent["routing_key"],
                    "envelope": sent["envelope"],
                    "created_at": datetime.now(UTC),
                    "state": "pending",
                    "lease_until": 0.0,
                    "attempts": 0,
                }
            )
        finally:
            await client.close()


def wait_for_demo_accounts(runner: SingleProcess, timeout: float = 60.0) -> None:
    """The dashboard seeds them once routing answers, just after start; a login before that
    would fail and count towards the account's lock."""
    assert runner.process is not None
    deadline = time.monotonic() + timeout
    while DEMO_SEEDED not in runner.process.log.read_text(errors="replace"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"no demo accounts after {timeout}s:\n{runner.process.tail()}")
        time.sleep(0.2)


@contextmanager
def running_booth(data_dir: Path, env: dict[str, str]) -> Iterator[Booth]:
    """`dialog run` with these settings, its demo accounts seeded; stopped after."""
    runner = SingleProcess(data_dir=data_dir, env=env)
    try:
        runner.start()
        wait_for_demo_accounts(runner)
        state = json.loads((data_dir / "nx-27017.json").read_text())
        yield Booth(
            runner=runner,
            data_dir=data_dir,
            mongo_url=f"mongodb://127.0.0.1:{state['port']}/?directConnection=true",
        )
    finally:
        runner.stop()


@pytest.fixture(scope="session")
def booth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Booth]:
    env = {
        "DIALOG_BUS_RETRY_FIRST_DELAY_S": "0.2",
        "DIALOG_KIOSK_GATEWAY_BASE_DURATION_S": str(BASE_S),
        "DIALOG_KIOSK_GATEWAY_EXTENSION_S": str(EXTENSION_S),
        "DIALOG_KIOSK_GATEWAY_IDLE_S": str(IDLE_S),
        "DIALOG_KIOSK_GATEWAY_IDLE_CONFIRM_S": str(IDLE_CONFIRM_S),
        # Every browser test looks answers up from the same loopback address.
        "DIALOG_KIOSK_GATEWAY_LOOKUP_PER_IP_PER_MINUTE": "200",
        # /open shows a test's appeals within seconds, not the ten minutes of production.
        "DIALOG_ROUTING_OPEN_FIGURES_INTERVAL_S": "1",
        "DIALOG_KIOSK_GATEWAY_OPEN_FIGURES_INTERVAL_S": "1",
    }
    with running_booth(tmp_path_factory.mktemp("booth"), env) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[Any]:
    import httpx

    async with httpx.AsyncClient(timeout=60) as client:
        yield client
