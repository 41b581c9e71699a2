"""Deterministic byte streams for storage tests, regenerated on demand instead of held whole."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator

# Irregular piece sizes, so parts never line up with what the source yields.
PIECE_SIZES = (65536, 1, 100_003, 4096, 300_000, 7)


class Boom(Exception):
    """The failure a test source raises mid-stream."""


def pieces(seed: int, total: int) -> Iterator[bytes]:
    """A deterministic pseudo-random byte stream of `total` bytes, in irregular pieces."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    sent = 0
    index = 0
    while sent < total:
        size = min(PIECE_SIZES[index % len(PIECE_SIZES)], total - sent)
        yield rng.randbytes(size)
        sent += size
        index += 1


async def source(seed: int, total: int) -> AsyncIterator[bytes]:
    for piece in pieces(seed, total):
        yield piece
        await asyncio.sleep(0)


def expected(seed: int, total: int, start: int, end: int) -> bytes:
    """Bytes [start, end] of the stream, regenerated without holding the whole of it."""
    out = bytearray()
    offset = 0
    for piece in pieces(seed, total):
        lo, hi = max(start, offset), min(end + 1, offset + len(piece))
        if lo < hi:
            out += piece[lo - offset : hi - offset]
        offset += len(piece)
        if offset > end:
            break
    return bytes(out)


async def collect(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])
