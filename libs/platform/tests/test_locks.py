"""Per-key locks: one holder per key at a time, other keys not held up, nothing kept after."""

from __future__ import annotations

import asyncio

from dialog_platform.locks import KeyedLocks


async def test_one_holder_per_key_and_other_keys_go_on() -> None:
    locks = KeyedLocks()
    order: list[str] = []
    first_in = asyncio.Event()
    release = asyncio.Event()

    async def hold(key: str, name: str, *, wait: bool = False) -> None:
        async with locks.hold(key):
            order.append(f"{name} in")
            if wait:
                first_in.set()
                await release.wait()
            order.append(f"{name} out")

    first = asyncio.create_task(hold("a1", "first", wait=True))
    await first_in.wait()
    second = asyncio.create_task(hold("a1", "second"))
    other = asyncio.create_task(hold("a2", "other"))
    await other  # another key is not held up by a1's holder
    await asyncio.sleep(0.01)
    assert order == ["first in", "other in", "other out"]  # a1's second waits
    release.set()
    await asyncio.gather(first, second)
    assert order[3:] == ["first out", "second in", "second out"]
    assert len(locks) == 0  # no key is kept once nobody holds or waits for it


async def test_a_failing_holder_releases_its_key() -> None:
    locks = KeyedLocks()
    try:
        async with locks.hold("a1"):
            raise ValueError("handler failed")
    except ValueError:
        pass
    async with asyncio.timeout(1):
        async with locks.hold("a1"):
            pass
    assert len(locks) == 0
