"""Feeding a streamed upload to the S3 client's upload thread, and the memory its parts take."""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import threading
from collections.abc import AsyncIterator

MiB = 1024 * 1024
# What the upload thread may have received but not taken yet: enough to keep the sender
# streaming while a part is handed over, small beside the parts themselves.
READ_AHEAD = MiB // 2


class SourceFailed(Exception):
    """Carries the caller's stream error through minio's `put_object`.

    minio aborts the multipart upload on any `Exception` from `read()`; wrapping makes sure that
    happens for every error (cancellation included) and lets `put_stream` re-raise the original.
    """


class StreamReader:
    """A blocking file-like over an async iterator, read by the upload thread.

    A pump task on the loop reads the iterator ahead into a buffer of at most `read_ahead`
    bytes, so the sender keeps streaming while minio uploads the previous part; without it,
    receiving and uploading would take turns and their times would add up. Each `read(n)` asks
    the loop for up to `n` buffered bytes and waits for them.
    """

    def __init__(
        self, chunks: AsyncIterator[bytes], loop: asyncio.AbstractEventLoop, *, read_ahead: int
    ) -> None:
        self._chunks = aiter(chunks)
        self._loop = loop
        self._read_ahead = read_ahead
        self._buffer: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._data = asyncio.Event()
        self._space = asyncio.Event()
        self._pump_task: asyncio.Task[None] | None = None
        self._pump_done = False
        self._pump_error: BaseException | None = None
        self._leftover = b""
        self._eof = False
        self._cancelled = threading.Event()
        self._pending: concurrent.futures.Future[int] | None = None
        self.size = 0
        self.error: BaseException | None = None

    def start(self) -> None:
        """Start reading ahead (on the loop)."""
        self._pump_task = asyncio.create_task(self._pump(), name="s3-upload-read-ahead")

    async def _pump(self) -> None:
        try:
            async for chunk in self._chunks:
                while self._buffered >= self._read_ahead:
                    self._space.clear()
                    await self._space.wait()
                data = bytes(chunk)
                self._buffer.append(data)
                self._buffered += len(data)
                self._data.set()
        except BaseException as exc:
            # Raised to the upload thread at its next read, so minio aborts the upload; the
            # last part is never sent while the source may still fail.
            self._pump_error = exc
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            self._pump_done = True
            self._data.set()

    async def stop(self) -> None:
        task = self._pump_task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def read(self, size: int = -1) -> bytearray:
        if size < 0:
            # An unbounded read would hold the whole object in memory.
            raise ValueError("read() needs a size")
        if self._cancelled.is_set():
            self.error = self.error or asyncio.CancelledError()
            raise SourceFailed("upload cancelled")
        if self._eof and not self._leftover:
            return bytearray()
        # The part's memory, taken here (not on the loop) and filled as the pieces come, each
        # piece let go once copied: a part never costs more than its size, as joining the
        # pieces at the end would (the pieces and their copy at once).
        part = bytearray(size)
        future = asyncio.run_coroutine_threadsafe(self._collect(part), self._loop)
        self._pending = future
        if self._cancelled.is_set():
            future.cancel()
        try:
            filled = future.result()
        except BaseException as exc:
            if self.error is None:
                self.error = (
                    asyncio.CancelledError()
                    if isinstance(exc, concurrent.futures.CancelledError)
                    else exc
                )
            raise SourceFailed("the source stream failed") from exc
        finally:
            self._pending = None
        del part[filled:]  # the end of the stream: a shorter last part
        self.size += filled
        return part

    async def _next_chunk(self) -> bytes | None:
        while not self._buffer:
            if self._pump_done:
                if self._pump_error is not None:
                    raise self._pump_error
                return None
            self._data.clear()
            await self._data.wait()
        chunk = self._buffer.popleft()
        self._buffered -= len(chunk)
        self._space.set()
        return chunk

    async def _collect(self, part: bytearray) -> int:
        """Fill `part` from the buffered chunks until it is full or the stream ends; the bytes
        filled (runs on the loop, a chunk's copy at a time)."""
        size = len(part)
        have = 0
        with memoryview(part) as view:
            if self._leftover:
                have = min(size, len(self._leftover))
                view[:have] = self._leftover[:have]
                self._leftover = self._leftover[have:]
            while have < size and not self._eof:
                chunk = await self._next_chunk()
                if chunk is None:
                    self._eof = True
                    break
                taken = min(size - have, len(chunk))
                view[have : have + taken] = chunk if taken == len(chunk) else chunk[:taken]
                if taken < len(chunk):
                    self._leftover = chunk[taken:]
                have += taken
        return have

    def cancel(self) -> None:
        """Make the upload thread fail at its current or next read (called on the loop)."""
        self._cancelled.set()
        pending = self._pending
        if pending is not None:
            pending.cancel()
