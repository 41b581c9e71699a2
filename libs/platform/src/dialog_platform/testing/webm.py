"""Real WebM files for tests and benchmarks, encoded with PyAV (which bundles FFmpeg).

PyAV is imported inside the functions: it is a dependency of media-store, not of every user of
`dialog_platform.testing`.
"""

from __future__ import annotations

import array
import math
import os
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO, Literal

Codec = Literal["vp8", "vp9"]

_ENCODERS: dict[str, str] = {"vp8": "libvpx", "vp9": "libvpx-vp9"}
# Realtime mode at the fastest preset, one thread (tiny frames gain nothing from more): a 250 s
# clip at 160x120 encodes in a couple of seconds.
_FAST_VPX: dict[str, dict[str, str]] = {
    "vp8": {"deadline": "realtime", "cpu-used": "16", "lag-in-frames": "0", "threads": "1"},
    "vp9": {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0", "threads": "1"},
}
_SAMPLE_RATE = 48000
_AUDIO_FRAME = 960  # 20 ms, an Opus frame size


class _ForwardOnly:
    """Write-only, unseekable: the muxer cannot go back to fill in Duration and Cues.

    That is what Chrome's MediaRecorder produces (it emits the file as it records).
    """

    def __init__(self, file: BinaryIO) -> None:
        self._file = file

    def write(self, data: bytes) -> int:
        return self._file.write(data)


def _tone_frame_bytes() -> bytes:
    samples = array.array(
        "h",
        (int(6000 * math.sin(2 * math.pi * 440 * n / _SAMPLE_RATE)) for n in range(_AUDIO_FRAME)),
    )
    return samples.tobytes()


def _add_audio_stream(container: Any) -> Any:
    stream = container.add_stream("libopus", rate=_SAMPLE_RATE, layout="mono")
    stream.bit_rate = 24000
    return stream


def _encode_audio_until(
    container: Any, stream: Any, tone: bytes, first: int, until_s: float
) -> int:
    """Encode 20 ms tone frames from frame index `first` up to time `until_s`; return next index."""
    import av

    index = first
    while index * _AUDIO_FRAME < until_s * _SAMPLE_RATE:
        frame = av.AudioFrame(format="s16", layout="mono", samples=_AUDIO_FRAME)
        frame.planes[0].update(tone)
        frame.sample_rate = _SAMPLE_RATE
        frame.pts = index * _AUDIO_FRAME
        frame.time_base = Fraction(1, _SAMPLE_RATE)
        container.mux(stream.encode(frame))
        index += 1
    return index


def make_webm(
    path: Path | str,
    *,
    seconds: float,
    width: int = 160,
    height: int = 120,
    fps: int = 10,
    audio: bool = True,
    codec: Codec = "vp8",
    live: bool = False,
) -> Path:
    """Encode a WebM of `seconds` of a moving pattern (and a 440 Hz Opus tone if `audio`).

    `live=True` writes it forward-only, like a browser's MediaRecorder: no Duration header and
    no Cues, so a reader must demux to the last packet to learn the duration.
    """
    import av

    if seconds <= 0 or fps <= 0 or width % 2 or height % 2:
        raise ValueError("seconds and fps must be positive, width and height even")
    out = Path(path)
    frames = max(1, round(seconds * fps))
    base_row = bytes((x * 3) & 0xFF for x in range(width + 256))
    chroma = (width // 2) * (height // 2)
    tone = _tone_frame_bytes()
    with out.open("wb") as file:
        target: Any = _ForwardOnly(file) if live else file
        with av.open(target, mode="w", format="webm") as container:
            video = container.add_stream(_ENCODERS[codec], rate=fps, options=dict(_FAST_VPX[codec]))
            assert isinstance(video, av.VideoStream)
            video.width = width
            video.height = height
            video.pix_fmt = "yuv420p"
            sound = _add_audio_stream(container) if audio else None
            audio_index = 0
            for i in range(frames):
                if sound is not None:
                    # Interleave as a recorder would: the audio up to the end of this frame.
                    audio_index = _encode_audio_until(
                        container, sound, tone, audio_index, (i + 1) / fps
                    )
                offset = (i * 4) % 256
                row = base_row[offset : offset + width]
                bar = (i * 2) % (height - 8)
                luma = row * bar + bytes([235]) * (width * 8) + row * (height - bar - 8)
                frame = av.VideoFrame(width, height, "yuv420p")
                frame.planes[0].update(luma)
                frame.planes[1].update(bytes([(i * 5) & 0xFF]) * chroma)
                frame.planes[2].update(bytes([128]) * chroma)
                frame.pts = i
                frame.time_base = Fraction(1, fps)
                container.mux(video.encode(frame))
            container.mux(video.encode(None))
            if sound is not None:
                _encode_audio_until(container, sound, tone, audio_index, frames / fps)
                container.mux(sound.encode(None))
    return out


def make_audio_only_webm(path: Path | str, seconds: float) -> Path:
    """A WebM with one Opus track and no video (media-store must refuse it)."""
    import av

    if seconds <= 0:
        raise ValueError("seconds must be positive")
    out = Path(path)
    tone = _tone_frame_bytes()
    with av.open(str(out), mode="w", format="webm") as container:
        sound = _add_audio_stream(container)
        _encode_audio_until(container, sound, tone, 0, seconds)
        container.mux(sound.encode(None))
    return out


def make_webm_of_size(
    path: Path | str,
    target_bytes: int,
    *,
    seconds: float = 60.0,
    width: int = 640,
    height: int = 480,
    unique_frames: int = 24,
) -> Path:
    """A real, decodable video-only WebM of about `target_bytes` (within a few percent).

    Noise does not compress, so a few noise keyframes encoded at a very high bitrate are large;
    they are then muxed again and again with advancing timestamps. Every frame is a keyframe, so
    the repeated packets form a valid stream. The frames are spread over `seconds` (keep it under
    media-store's limit for a file that should be accepted).
    """
    import av

    if target_bytes <= 0 or seconds <= 0 or unique_frames <= 0:
        raise ValueError("target_bytes, seconds and unique_frames must be positive")
    out = Path(path)
    with av.open(str(out), mode="w", format="webm") as container:
        video = container.add_stream(
            "libvpx",
            rate=25,
            options={**_FAST_VPX["vp8"], "crf": "4", "b": "20M", "qmin": "0", "qmax": "10"},
        )
        video.width = width
        video.height = height
        video.pix_fmt = "yuv420p"
        video.bit_rate = 200_000_000
        video.codec_context.gop_size = 1
        planes = (width * height, (width // 2) * (height // 2), (width // 2) * (height // 2))
        encoded: list[bytes] = []
        for i in range(unique_frames + 1):
            if i < unique_frames:
                frame = av.VideoFrame(width, height, "yuv420p")
                for plane, size in zip(frame.planes, planes, strict=True):
                    plane.update(os.urandom(size))
                frame.pts = i
                packets = video.encode(frame)
            else:
                packets = video.encode(None)
            encoded.extend(bytes(packet) for packet in packets)
        average = sum(len(data) for data in encoded) / len(encoded)
        count = max(1, round(target_bytes / average))
        step_ms = seconds * 1000 / count
        time_base = Fraction(1, 1000)
        for i in range(count):
            packet = av.Packet(encoded[i % len(encoded)])
            packet.stream = video
            packet.time_base = time_base
            packet.pts = packet.dts = round(i * step_ms)
            packet.duration = round((i + 1) * step_ms) - packet.pts
            packet.is_keyframe = True
            container.mux(packet)
    return out
