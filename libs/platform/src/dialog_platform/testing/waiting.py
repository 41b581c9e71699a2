"""Waiting in tests for what a running system does in its own time (events, printing, SMS)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any


async def eventually(
    probe: Callable[[], Awaitable[Any]],
    *,
    timeout: float = 30.0,  # noqa: ASYNC109 - a deadline for the polling loop, not one await
) -> Any:
    """Await `probe` until it returns something true, and return that; fail after `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not (result := await probe()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not true after {timeout}s: {probe.__name__}")
        await asyncio.sleep(0.2)
    return result
