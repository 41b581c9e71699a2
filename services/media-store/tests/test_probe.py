"""The streaming WebM validator, fed real WebM files generated with PyAV."""

from __future__ import annotations

import asyncio
import os
import threading
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dialog_platform.testing.webm import make_audio_only_webm, make_webm, make_webm_of_size
from media_store.probe import (
    EBML_MAGIC,
    NotWebm,
    NoVideoStream,
    ProbeResult,
    TooLong,
    WebmProbe,
    _Pipe,
)

MiB = 1024 * 1024
# Generous: the probe must answer quickly, never hang; a hang fails here instead of at the
# suite's timeout.
DEADLINE_S = 20


@dataclass(frozen=True)
class Clips:
    short_live: bytes  # 7 s, written like MediaRecorder: no Duration header
    short_seekable: bytes  # 5 s, with a Duration header
    vp9_silent: bytes  # 3 s VP9, no audio
    long_live: bytes  # 250 s, no Duration header
    audio_only: bytes


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Clips:
    d = tmp_path_factory.mktemp("clips")
    return Clips(
        short_live=make_webm(d / "live.webm", seconds=7, live=True).read_bytes(),
        short_seekable=make_webm(d / "seekable.webm", seconds=5).read_bytes(),
        vp9_silent=make_webm(
            d / "vp9.webm", seconds=3, codec="vp9", audio=False, width=96, height=64
        ).read_bytes(),
        long_live=make_webm(d / "long.webm", seconds=250, live=True).read_bytes(),
        audio_only=make_audio_only_webm(d / "audio.webm", 3).read_bytes(),
    )


def split(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def probe_all(
    probe: WebmProbe, chunks: Iterator[bytes], fed: list[int] | None = None
) -> ProbeResult:
    """Feed every chunk then finish; `fed` records how many bytes were accepted."""

    async def run() -> ProbeResult:
        try:
            for chunk in chunks:
                await probe.feed(chunk)
                if fed is not None:
                    fed[0] += len(chunk)
            return await probe.finish()
        finally:
            await probe.abort()

    return await asyncio.wait_for(run(), DEADLINE_S)


@pytest.mark.parametrize("chunk_size", [1, 4096, 65536, 10 * MiB])
async def test_recorder_style_webm_passes_with_its_duration(clips: Clips, chunk_size: int) -> None:
    data = clips.short_live
    if chunk_size == 1:
        # Byte by byte through the magic check, then ordinary chunks.
        chunks: Iterator[bytes] = iter([*split(data[:6], 1), *split(data[6:], 8192)])
    else:
        chunks = split(data, chunk_size)
    result = await probe_all(WebmProbe(), chunks)
    assert abs(result.duration_s - 7.0) <= 0.5
    assert (result.video_codec, result.width, result.height) == ("vp8", 160, 120)
    assert result.has_audio is True


async def test_webm_with_duration_header_passes(clips: Clips) -> None:
    result = await probe_all(WebmProbe(), split(clips.short_seekable, 16384))
    assert abs(result.duration_s - 5.0) <= 0.5


async def test_vp9_without_audio(clips: Clips) -> None:
    result = await probe_all(WebmProbe(), split(clips.vp9_silent, 16384))
    assert abs(result.duration_s - 3.0) <= 0.5
    assert (result.video_codec, result.width, result.height, result.has_audio) == (
        "vp9",
        96,
        64,
        False,
    )


async def test_long_recording_is_refused_before_the_end_of_the_stream(clips: Clips) -> None:
    data = clips.long_live
    fed = [0]
    # The 10 s past the 240 s limit are only ~80 KB of this low-bitrate clip, so the pipe and the
    # demuxer's reads are kept well under that (at most ~24 KB in flight) to see the refusal
    # arrive while bytes are still to come.
    probe = WebmProbe(max_buffered=16 * 1024, read_size=4096)
    with pytest.raises(TooLong) as raised:
        await probe_all(probe, split(data, 4096), fed)
    assert fed[0] < len(data) - 40_000, "TooLong only (nearly) after the whole stream was fed"
    assert 240 < raised.value.duration_s < 241
    assert raised.value.max_duration_s == 240
    assert not probe.running


async def test_long_recording_is_refused_early_with_default_buffering(clips: Clips) -> None:
    data = clips.long_live
    fed = [0]
    with pytest.raises(TooLong):
        await probe_all(WebmProbe(max_duration_s=60), split(data, 65536), fed)
    assert fed[0] < len(data) / 2


async def test_long_recording_passes_under_a_higher_limit(clips: Clips) -> None:
    result = await probe_all(WebmProbe(max_duration_s=300), split(clips.long_live, 65536))
    assert abs(result.duration_s - 250.0) <= 0.5


@pytest.mark.parametrize(
    "body",
    [
        b"Hello, this is plain text and not a video at all.\n" * 10,
        b"\x89PNG\r\n\x1a\n" + os.urandom(5000),
        b"\x00\x00\x00\x1cftypisom" + os.urandom(5000),  # MP4
    ],
    ids=["text", "png", "mp4"],
)
async def test_non_webm_is_refused_on_the_first_chunk(body: bytes) -> None:
    probe = WebmProbe()
    with pytest.raises(NotWebm):
        await probe.feed(body)
    assert not probe.running  # refused before any demuxing started
    with pytest.raises(NotWebm):
        await probe.feed(b"more")  # and it stays refused
    await probe.abort()


@pytest.mark.parametrize("body", [b"", b"\x1a\x45"], ids=["empty", "three-bytes-short"])
async def test_too_short_body_is_not_webm(body: bytes) -> None:
    with pytest.raises(NotWebm):
        await probe_all(WebmProbe(), iter([body]))


async def test_audio_only_webm_has_no_video(clips: Clips) -> None:
    with pytest.raises(NoVideoStream):
        await probe_all(WebmProbe(), split(clips.audio_only, 4096))


@pytest.mark.parametrize(
    "body",
    [
        EBML_MAGIC,
        EBML_MAGIC + os.urandom(200_000),
        EBML_MAGIC + b"\x00" * 100_000,
    ],
    ids=["magic-only", "random", "zeros"],
)
async def test_garbage_after_the_magic_is_refused_not_hung(body: bytes) -> None:
    with pytest.raises(NoVideoStream):
        await probe_all(WebmProbe(), split(body, 8192))


async def test_header_cut_before_any_frame_is_refused(clips: Clips) -> None:
    for cut in (40, 300):
        with pytest.raises(NoVideoStream):
            await probe_all(WebmProbe(), iter([clips.short_live[:cut]]))


async def test_abort_mid_stream_stops_the_thread(clips: Clips) -> None:
    probe = WebmProbe()
    half = clips.long_live[: len(clips.long_live) // 2]
    for chunk in split(half, 65536):
        await probe.feed(chunk)
    assert probe.running
    await asyncio.wait_for(probe.abort(), DEADLINE_S)
    assert not probe.running
    await probe.abort()  # idempotent
    with pytest.raises(RuntimeError):
        await probe.feed(b"more")


async def test_leaving_the_context_stops_the_thread(clips: Clips) -> None:
    async with WebmProbe() as probe:
        await probe.feed(clips.long_live[:200_000])
        assert probe.running
    assert not probe.running


async def test_memory_stays_bounded_on_a_large_file(tmp_path: Path) -> None:
    path = make_webm_of_size(tmp_path / "big.webm", 30 * 1000 * 1000, seconds=100)
    probe = WebmProbe()
    tracemalloc.start()
    try:
        with path.open("rb") as file:
            while chunk := file.read(65536):
                await asyncio.wait_for(probe.feed(chunk), DEADLINE_S)
        result = await asyncio.wait_for(probe.finish(), DEADLINE_S)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        await probe.abort()
    assert abs(result.duration_s - 100) <= 0.5
    assert (result.width, result.height, result.has_audio) == (640, 480, False)
    assert peak < 4 * MiB, f"peak {peak / MiB:.1f} MiB while probing 30 MB"


def test_pyav_reads_through_a_non_seekable_pipe() -> None:
    # PyAV seeks only through `seek`/`tell` and skips them when `seekable()` is False; the pipe
    # has neither, so the demuxer works strictly forward like on a socket.
    assert not hasattr(_Pipe, "seek") and not hasattr(_Pipe, "tell")


async def test_pipe_applies_backpressure() -> None:
    pipe = _Pipe(asyncio.get_running_loop(), limit=10)
    await asyncio.wait_for(pipe.write(b"12345678"), 1)
    await asyncio.wait_for(pipe.write(b"abcdefgh"), 1)  # under the limit before this one
    blocked = asyncio.create_task(pipe.write(b"XYZ"))
    await asyncio.sleep(0.05)
    assert not blocked.done(), "the writer must wait while the pipe is full"

    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.extend([pipe.read(4), pipe.read(100)]))
    reader.start()
    await asyncio.wait_for(blocked, 5)
    reader.join(5)
    assert got == [b"1234", b"5678"]  # reads never return more than asked
    pipe.end()
    rest = await asyncio.to_thread(lambda: [pipe.read(100), pipe.read(100), pipe.read(100)])
    assert rest == [b"abcdefgh", b"XYZ", b""]
