"""Request rates per client (in memory), and lockouts for wrong secrets (in the database)."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection


class SlidingWindow:
    def __init__(
        self,
        limit: int,
        window_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}

    def allow(self, key: str) -> bool:
        now = self.clock()
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self.max_keys:
                # Bounded memory under a flood of distinct clients: forget the oldest keys.
                for old in list(self._hits)[: self.max_keys // 10]:
                    del self._hits[old]
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        return True


class Locked(Exception):
    """This client may not try this subject again for `retry_after_s` seconds."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"locked for {retry_after_s}s")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Attempt:
    """One admitted try of a secret; report how it went with `failed` or `succeeded`."""

    subject: str
    client: str
    allowed: int  # failures this client may make at this subject in the lock window
    mine: int  # ...of which it has made so far
    total: int  # failures at this subject from every client today

    @property
    def left(self) -> int:
        """Tries this client has left if this one fails."""
        return max(0, self.allowed - self.mine - 1)


@dataclass
class Lockout:
    """Wrong secrets (an access code for one number, a password for one login) counted per
    subject and per client, so that guessing is slow and nobody can lock a citizen out.

    - A client that fails `per_client` times at a subject is locked out of it for `lock_s`:
      the lock falls on whoever failed, never on the subject for everybody.
    - Past `per_client` failures from all clients in a day, every try at the subject waits,
      twice as long with each further failure up to `max_delay_s`: a script with many addresses
      is slowed down, a citizen with the right secret still gets in.
    - Past `daily_cap` failures in a day, each client gets one wrong try at the subject a day.

    Kept in the database (one document per failure) so every replica counts the same.
    """

    failures: AsyncCollection[dict[str, Any]]
    clock: Callable[[], datetime]
    per_client: int
    lock_s: int
    daily_cap: int
    first_delay_s: float = 0.25
    max_delay_s: float = 8.0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    async def create_indexes(self) -> None:
        await self.failures.create_index([("subject", 1), ("client", 1), ("at", 1)])
        await self.failures.create_index([("subject", 1), ("at", 1)])

    def delay_s(self, total: int) -> float:
        if total < self.per_client:
            return 0.0
        return min(self.max_delay_s, self.first_delay_s * 2.0 ** (total - self.per_client))

    async def admit(self, subject: str, client: str) -> Attempt:
        """The try, once the client may make it (raises `Locked`) and has waited its delay."""
        now = self.clock()
        lock = timedelta(seconds=self.lock_s)
        cursor = self.failures.find(
            {"subject": subject, "client": client, "at": {"$gt": now - lock}},
            {"at": 1},
            sort=[("at", 1)],
        )
        mine = [doc["at"] async for doc in cursor]
        total = await self.failures.count_documents(
            {"subject": subject, "at": {"$gt": now - timedelta(days=1)}}
        )
        allowed = 1 if total >= self.daily_cap else self.per_client
        if len(mine) >= allowed:
            # Until the oldest failure that still counts leaves the window.
            until = mine[-allowed] + lock
            raise Locked(max(1, int((until - now).total_seconds()) + 1))
        delay = self.delay_s(total)
        if delay:
            await self.sleep(delay)
        return Attempt(subject, client, allowed, len(mine), total)

    async def failed(self, attempt: Attempt) -> int:
        """Count the failure; the tries this client has left at this subject."""
        await self.failures.insert_one(
            {"subject": attempt.subject, "client": attempt.client, "at": self.clock()}
        )
        return attempt.left

    async def succeeded(self, attempt: Attempt) -> None:
        """The client's own failures are forgiven; the others' keep slowing the subject."""
        await self.failures.delete_many({"subject": attempt.subject, "client": attempt.client})

    async def forget(self, before: datetime) -> int:
        """Drop failures older than anything counts (housekeeping)."""
        result = await self.failures.delete_many({"at": {"$lt": before}})
        return result.deleted_count
