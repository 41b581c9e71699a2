"""Helpers for byte streams that pass through a service."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

COALESCE_BYTES = 1024 * 1024


async def coalesce(
    chunks: AsyncIterator[bytes], min_size: int = COALESCE_BYTES
) -> AsyncIterator[bytes]:
    """Join small pieces into chunks of at least `min_size` bytes (the last may be smaller).

    An HTTP server hands a request body over in socket-sized pieces (tens of kilobytes); each
    piece passed on costs a hop through the event loop, the hash, the probe and the next
    connection. Fewer, larger chunks keep that per-piece cost off a 100 MB upload, at the price
    of one chunk held in memory.
    """
    pending: list[bytes] = []
    size = 0
    async for chunk in chunks:
        if not chunk:
            continue
        pending.append(chunk)
        size += len(chunk)
        if size >= min_size:
            yield b"".join(pending)
            pending = []
            size = 0
    if pending:
        yield b"".join(pending)


async def capped(
    chunks: AsyncIterator[bytes], limit: int, too_large: Callable[[], BaseException]
) -> AsyncIterator[bytes]:
    """Pass `chunks` through, raising `too_large()` as soon as more than `limit` bytes came.

    Counted on the pieces as they arrive, before any coalescing, so a stream that passes the
    limit and then stalls is refused at once instead of after the next megabyte.
    """
    received = 0
    async for chunk in chunks:
        received += len(chunk)
        if received > limit:
            raise too_large()
        yield chunk
