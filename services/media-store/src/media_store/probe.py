"""Streaming validation of an uploaded WebM while it flows to storage.

The upload is never held whole, in memory or on disk, so the probe sees it once, in order, as it
is fed. PyAV (FFmpeg) demuxes it in a worker thread from a bounded, non-seekable pipe; nothing is
decoded, not even the first frames FFmpeg's stream probing would decode (see `NO_DECODER`).
Browsers' MediaRecorder output has no Duration header, so the duration is the latest packet end
seen (pts + duration), which also lets an over-long recording be refused as soon as its packets
pass the limit.

Use:
    async with WebmProbe() as probe:     # leaving the block calls abort(): the thread stops
        async for chunk in body:
            await probe.feed(chunk)      # may raise NotWebm / NoVideoStream / TooLong
            ...store chunk...
        result = await probe.finish()    # may raise the same

Feeding from inside the generator given to `MediaStore.put_stream`, and calling `finish()` there
after the last chunk, means a refusal aborts the upload before it completes: a rejected video
never becomes an object, not even briefly.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
from dataclasses import dataclass

import av

EBML_MAGIC = b"\x1a\x45\xdf\xa3"
MAX_DURATION_S = 240.0
DEFAULT_MAX_BUFFERED = 256 * 1024
DEFAULT_READ_SIZE = 32 * 1024
# FFmpeg's stream probing opens each stream's decoder, to learn the pixel and sample formats,
# unless the container's codec whitelist refuses it; the codec name, size and channels come
# from the Matroska track headers anyway. So only the demuxer reads an untrusted upload, and the
# decoders' code and tables stay untouched: 0.6 MB of `dialog run` after 150 appeals, and 1.9 MB
# (VP8) or 3.3 MB (VP9) of a process that only probes.
NO_DECODER = {"codec_whitelist": "no-decoder"}


class ProbeError(Exception):
    """A reason to refuse the upload; `status_code` is the HTTP answer."""

    status_code = 422


class NotWebm(ProbeError):
    status_code = 415


class NoVideoStream(ProbeError):
    """No video stream, or the body is not parseable as Matroska/WebM."""

    status_code = 415


class TooLong(ProbeError):
    status_code = 422

    def __init__(self, duration_s: float, max_duration_s: float) -> None:
        super().__init__(f"video is longer than {max_duration_s:g} s (reached {duration_s:.2f} s)")
        self.duration_s = duration_s
        self.max_duration_s = max_duration_s


@dataclass(frozen=True)
class ProbeResult:
    duration_s: float
    video_codec: str
    width: int
    height: int
    has_audio: bool


class _Pipe:
    """Bytes from the event loop to the demux thread, at most about `limit` bytes in flight.

    The reader (thread) blocks on a condition; the writer (loop) waits on an asyncio event the
    reader sets after consuming, so a full pipe never ties up a loop thread.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, limit: int) -> None:
        self._loop = loop
        self._limit = limit
        self._cond = threading.Condition()
        self._chunks: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._eof = False  # the writer has no more data
        self._closed = False  # the reader must stop now (abort)
        self._reader_gone = False  # the reader stopped; writes are dropped
        self._space = asyncio.Event()

    # -- reader side (demux thread) --

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes; b"" means end of stream (PyAV copies at most `size` bytes)."""
        with self._cond:
            while not self._chunks and not self._eof and not self._closed:
                self._cond.wait()
            if self._closed or not self._chunks:
                return b""
            head = self._chunks[0]
            if 0 <= size < len(head):
                data = head[:size]
                self._chunks[0] = head[size:]
            else:
                data = self._chunks.popleft()
            self._buffered -= len(data)
        self._wake_writer()
        return data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def reader_done(self) -> None:
        with self._cond:
            self._reader_gone = True
            self._chunks.clear()
            self._buffered = 0
        self._wake_writer()

    def _wake_writer(self) -> None:
        # A closed loop (RuntimeError) has nobody left to wake.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._space.set)

    # -- writer side (event loop) --

    async def write(self, data: bytes) -> None:
        while True:
            with self._cond:
                if self._reader_gone or self._closed:
                    return
                if self._buffered < self._limit:
                    self._chunks.append(data)
                    self._buffered += len(data)
                    self._cond.notify()
                    return
                # Cleared under the lock: a read after this point sets it again, so the wakeup
                # cannot be lost.
                self._space.clear()
            await self._space.wait()

    def end(self) -> None:
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._chunks.clear()
            self._buffered = 0
            self._cond.notify_all()


class WebmProbe:
    """Validate a WebM fed chunk by chunk; see the module docstring for the protocol."""

    def __init__(
        self,
        *,
        max_duration_s: float = MAX_DURATION_S,
        max_buffered: int = DEFAULT_MAX_BUFFERED,
        read_size: int = DEFAULT_READ_SIZE,
    ) -> None:
        if max_duration_s <= 0 or max_buffered <= 0 or read_size <= 0:
            raise ValueError("max_duration_s, max_buffered and read_size must be positive")
        self.max_duration_s = max_duration_s
        self._max_buffered = max_buffered
        self._read_size = read_size
        self._head = b""
        self._pipe: _Pipe | None = None
        self._thread: threading.Thread | None = None
        self._done: asyncio.Future[None] | None = None
        self._error: ProbeError | None = None
        self._result: ProbeResult | None = None
        self._unexpected: BaseException | None = None
        self._aborted = False
        self._finished = False
        self.fed_bytes = 0

    async def feed(self, chunk: bytes) -> None:
        """Pass the next chunk; waits while the demuxer is behind (memory stays bounded)."""
        if self._finished or self._aborted:
            raise RuntimeError("the probe is finished")
        self._raise_if_failed()
        if not chunk:
            return
        self.fed_bytes += len(chunk)
        if self._pipe is None:
            self._head += chunk
            if len(self._head) < len(EBML_MAGIC):
                return
            if not self._head.startswith(EBML_MAGIC):
                self._error = NotWebm("not a WebM file (no EBML header)")
                raise self._error
            chunk, self._head = self._head, b""
            self._start()
        assert self._pipe is not None
        await self._pipe.write(chunk)
        self._raise_if_failed()

    async def finish(self) -> ProbeResult:
        """End of the body: wait for the demuxer and return what it found, or raise."""
        if self._aborted:
            raise RuntimeError("the probe was aborted")
        self._finished = True
        self._raise_if_failed()
        if self._pipe is None:
            self._error = NotWebm("not a WebM file (too short)")
            raise self._error
        self._pipe.end()
        assert self._done is not None
        await asyncio.shield(self._done)
        self._raise_if_failed()
        if self._result is None:
            raise NoVideoStream("the demuxer stopped without a result")
        return self._result

    async def abort(self) -> None:
        """Stop the demux thread and wait for it; safe to call at any time, more than once."""
        self._aborted = True
        if self._pipe is not None:
            self._pipe.close()
        if self._done is not None:
            await asyncio.shield(self._done)
        if self._thread is not None and self._thread.is_alive():
            # It has signalled `done` and is only returning; the join is short.
            await asyncio.to_thread(self._thread.join)

    async def __aenter__(self) -> WebmProbe:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.abort()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _raise_if_failed(self) -> None:
        if self._unexpected is not None:
            raise self._unexpected
        if self._error is not None:
            raise self._error

    def _start(self) -> None:
        loop = asyncio.get_running_loop()
        self._pipe = _Pipe(loop, self._max_buffered)
        self._done = loop.create_future()
        self._thread = threading.Thread(
            target=self._run, args=(loop, self._pipe, self._done), name="webm-probe", daemon=True
        )
        self._thread.start()

    def _run(
        self, loop: asyncio.AbstractEventLoop, pipe: _Pipe, done: asyncio.Future[None]
    ) -> None:
        try:
            result = self._demux(pipe)
            if not self._aborted:
                self._result = result
        except ProbeError as exc:
            if not self._aborted:  # an abort cuts the stream short: its errors mean nothing
                self._error = exc
        except av.FFmpegError as exc:
            if not self._aborted:
                self._error = NoVideoStream(f"not a readable WebM: {exc}")
        except BaseException as exc:  # a bug, not bad input: surface it to the caller as is
            self._unexpected = exc
        finally:
            pipe.reader_done()
            # A closed loop (RuntimeError) has nobody waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_resolve, done)

    def _demux(self, pipe: _Pipe) -> ProbeResult | None:
        # Forcing the Matroska demuxer (WebM is a subset): FFmpeg must not guess another format
        # for a body that merely starts with the EBML magic.
        container = av.open(
            pipe,
            mode="r",
            format="matroska",
            buffer_size=self._read_size,
            metadata_errors="replace",
            options=NO_DECODER,
        )
        with container:
            if self._aborted:
                return None
            videos = container.streams.video
            if not videos:
                raise NoVideoStream("the file has no video stream")
            video = videos[0]
            has_audio = bool(container.streams.audio)
            first: float | None = None
            last = 0.0
            video_packets = 0
            for packet in container.demux():
                if self._aborted:
                    return None
                stamp = packet.pts if packet.pts is not None else packet.dts
                if stamp is None or packet.time_base is None or packet.size == 0:
                    continue
                begin = float(stamp * packet.time_base)
                end = float((stamp + (packet.duration or 0)) * packet.time_base)
                first = begin if first is None else min(first, begin)
                last = max(last, end)
                if packet.stream.index == video.index:
                    video_packets += 1
                if last - first > self.max_duration_s:
                    raise TooLong(last - first, self.max_duration_s)
            if video_packets == 0 or first is None:
                raise NoVideoStream("the video stream has no frames")
            context = video.codec_context
            return ProbeResult(
                duration_s=max(0.0, last - first),
                video_codec=str(context.name),
                width=int(context.width or 0),
                height=int(context.height or 0),
                has_audio=has_audio,
            )


def _resolve(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_result(None)
