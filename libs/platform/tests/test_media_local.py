"""The local-folder media adapter and the playback URL signing it relies on."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import time
import tracemalloc
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from dialog_platform.media import (
    MAX_URL_TTL,
    PLAYBACK_PATH,
    InvalidKey,
    InvalidRange,
    LocalMediaStore,
    ObjectNotFound,
    check_key,
    sign_playback,
    verify_playback,
)
from dialog_platform.testing.streams import Boom, collect, expected, pieces, source

MiB = 1024 * 1024
SECRET = "a-test-secret-of-at-least-32-characters!"


def all_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


@pytest.fixture
async def store(data_dir: Path) -> LocalMediaStore:
    media = LocalMediaStore(data_dir / "media", SECRET)
    await media.start()
    return media


async def test_start_creates_the_folder_and_ping(data_dir: Path) -> None:
    media = LocalMediaStore(data_dir / "deep" / "media", SECRET)
    assert await media.ping() is False
    await media.start()
    await media.start()
    assert (data_dir / "deep" / "media").is_dir()
    assert await media.ping() is True


async def test_round_trip_with_nested_key(store: LocalMediaStore) -> None:
    key = "appeals/2025/a.webm"
    assert await store.put_stream(key, source(1, 100_000), content_type="video/webm") == 100_000
    info = await store.stat(key)
    assert (info.key, info.size, info.content_type) == (key, 100_000, "video/webm")
    assert await store.exists(key)
    assert await collect(store.read(key)) == expected(1, 100_000, 0, 99_999)
    # Only the object and its content-type sidecar: no temporary file left behind.
    assert all_files(store.root) == {key, "appeals/2025/.a.webm.type"}
    await store.delete(key)
    assert not await store.exists(key)
    assert all_files(store.root) == set()
    await store.delete(key)


async def test_missing_objects(store: LocalMediaStore) -> None:
    await store.put_stream("dir/x.webm", source(2, 10), content_type="video/webm")
    for key in ("no/such.webm", "dir", "dir/x.webm/deeper"):
        with pytest.raises(ObjectNotFound):
            await store.stat(key)
        with pytest.raises(ObjectNotFound):
            await collect(store.read(key))
        assert not await store.exists(key)


async def test_ranges(store: LocalMediaStore) -> None:
    total = 3 * MiB + 17
    await store.put_stream("r.bin", source(3, total), content_type="application/octet-stream")
    middle = total // 2
    for start, end in ((0, 999), (middle, middle + 500_000), (total - 1000, total - 1)):
        assert await collect(store.read("r.bin", start=start, end=end)) == expected(
            3, total, start, end
        )
    assert await collect(store.read("r.bin", start=total - 10, end=total + 50)) == expected(
        3, total, total - 10, total - 1
    )
    assert await collect(store.read("r.bin", start=total - 5)) == expected(
        3, total, total - 5, total - 1
    )
    with pytest.raises(InvalidRange):
        await collect(store.read("r.bin", start=total))
    with pytest.raises(ValueError):
        await collect(store.read("r.bin", start=-1))
    with pytest.raises(ValueError):
        await collect(store.read("r.bin", start=10, end=9))

    await store.put_stream("empty.bin", source(3, 0), content_type="application/octet-stream")
    assert await collect(store.read("empty.bin")) == b""
    assert await collect(store.read("empty.bin", start=0, end=100)) == b""


async def test_large_stream_uses_bounded_memory(store: LocalMediaStore) -> None:
    total = 50 * 1000 * 1000
    tracemalloc.start()
    try:
        await store.put_stream("big.webm", source(4, total), content_type="video/webm")
        _, write_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest = hashlib.sha256()
        async for chunk in store.read("big.webm"):
            digest.update(chunk)
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert write_peak < 4 * MiB, f"write peak {write_peak / MiB:.1f} MiB"
    assert read_peak < 4 * MiB, f"read peak {read_peak / MiB:.1f} MiB"
    source_digest = hashlib.sha256()
    for piece in pieces(4, total):
        source_digest.update(piece)
    assert digest.hexdigest() == source_digest.hexdigest()


async def test_failing_stream_leaves_nothing_and_keeps_the_previous_object(
    store: LocalMediaStore,
) -> None:
    await store.put_stream("v.webm", source(5, 1000), content_type="video/webm")
    before = all_files(store.root)
    error = Boom("the booth went away")

    async def failing() -> AsyncIterator[bytes]:
        async for piece in source(6, 2 * MiB):
            yield piece
        raise error

    with pytest.raises(Boom) as raised:
        await store.put_stream("v.webm", failing(), content_type="video/x-other")
    assert raised.value is error
    with pytest.raises(Boom):
        await store.put_stream("other/new.webm", failing(), content_type="video/webm")
    assert all_files(store.root) == before
    assert await collect(store.read("v.webm")) == expected(5, 1000, 0, 999)
    assert (await store.stat("v.webm")).content_type == "video/webm"
    assert not await store.exists("other/new.webm")


async def test_cancelled_write_leaves_nothing(store: LocalMediaStore) -> None:
    stalled = asyncio.Event()

    async def stalling() -> AsyncIterator[bytes]:
        async for piece in source(7, MiB):
            yield piece
        stalled.set()
        await asyncio.Event().wait()

    task = asyncio.create_task(store.put_stream("c.webm", stalling(), content_type="video/webm"))
    await asyncio.wait_for(stalled.wait(), 10)
    assert any(name.endswith(".part") for name in all_files(store.root))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert all_files(store.root) == set()


async def test_replacing_changes_content_and_type(store: LocalMediaStore) -> None:
    await store.put_stream("k.bin", source(8, 100), content_type="video/webm")
    await store.put_stream("k.bin", source(9, 50), content_type="application/json")
    info = await store.stat("k.bin")
    assert (info.size, info.content_type) == (50, "application/json")
    assert await collect(store.read("k.bin")) == expected(9, 50, 0, 49)


BAD_KEYS = [
    "",
    "../escape.webm",
    "a/../../escape.webm",
    "a/..",
    "/etc/passwd",
    "a//b",
    "a/",
    ".hidden",
    "a/.tmp-x.part",
    "a\\..\\b",
    "a\x00b",
    "line\nbreak",
    "x" * 1025,
]


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_keys_cannot_escape_the_folder(
    store: LocalMediaStore, data_dir: Path, key: str
) -> None:
    with pytest.raises(InvalidKey):
        await store.put_stream(key, source(10, 10), content_type="video/webm")
    with pytest.raises(InvalidKey):
        await store.stat(key)
    with pytest.raises(InvalidKey):
        await collect(store.read(key))
    with pytest.raises(InvalidKey):
        await store.delete(key)
    with pytest.raises(InvalidKey):
        await store.exists(key)
    with pytest.raises(InvalidKey):
        await store.playback_url(key, ttl=timedelta(minutes=1))
    assert all_files(data_dir) == set()


async def test_symlink_out_of_the_folder_is_refused(store: LocalMediaStore, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("private")
    os.symlink(outside, store.root / "link")
    with pytest.raises(InvalidKey):
        await store.stat("link/secret.txt")
    with pytest.raises(InvalidKey):
        await collect(store.read("link/secret.txt"))
    with pytest.raises(InvalidKey):
        await store.put_stream("link/new.webm", source(11, 10), content_type="video/webm")
    with pytest.raises(InvalidKey):
        await store.delete("link/secret.txt")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


def test_check_key_accepts_ordinary_keys() -> None:
    for key in ("a.webm", "appeals/2025/0001-abc.webm", "видео/жауап.webm", "a b/c+d=e.webm"):
        assert check_key(key) == key


URL = re.compile(
    re.escape(PLAYBACK_PATH) + r"/(?P<key>[^?]+)\?expires=(?P<exp>\d+)&sig=(?P<sig>[\w-]+)$"
)


def parse_playback(url: str) -> tuple[str, int, str]:
    match = URL.match(url)
    assert match, url
    return unquote(match["key"]), int(match["exp"]), match["sig"]


async def test_playback_url_is_signed_and_expires(store: LocalMediaStore) -> None:
    key = "appeals/видео 1.webm"
    now = time.time()
    url = await store.playback_url(key, ttl=timedelta(minutes=5))
    parsed = urlsplit(url)
    assert parsed.scheme == "" and parsed.netloc == ""  # relative: served by media-store
    assert " " not in url and "видео" not in url  # the key is percent-encoded
    got_key, expires, sig = parse_playback(url)
    assert got_key == key
    assert now + 299 <= expires <= time.time() + 301
    assert parse_qs(parsed.query)["sig"] == [sig]

    assert verify_playback(SECRET, key, expires, sig, now)
    assert verify_playback(SECRET, key, expires, sig)  # the clock by default
    assert verify_playback(SECRET, key, expires, sig, expires)  # valid up to its last second
    assert not verify_playback(SECRET, key, expires, sig, expires + 1)  # expired
    assert not verify_playback(SECRET, key, expires + 60, sig, now)  # extended expiry
    assert not verify_playback(SECRET, "appeals/other.webm", expires, sig, now)  # another key
    tampered = ("A" if sig[0] != "A" else "B") + sig[1:]
    assert not verify_playback(SECRET, key, expires, tampered, now)
    assert not verify_playback(SECRET, key, expires, "", now)
    assert not verify_playback(SECRET, key, expires, "подпись", now)  # non-ASCII: no crash
    assert not verify_playback("another-secret-of-sufficient-length!!", key, expires, sig, now)


async def test_playback_ttl_is_capped(store: LocalMediaStore) -> None:
    before = time.time()
    _, expires, _ = parse_playback(await store.playback_url("a.webm", ttl=timedelta(hours=5)))
    assert expires <= time.time() + MAX_URL_TTL.total_seconds()
    assert expires >= before + MAX_URL_TTL.total_seconds() - 1
    with pytest.raises(ValueError):
        await store.playback_url("a.webm", ttl=timedelta(seconds=0))


def test_long_lived_signatures_are_refused_even_if_genuine() -> None:
    now = time.time()
    expires = int(now + 3600)
    sig = sign_playback(SECRET, "a.webm", expires)
    assert not verify_playback(SECRET, "a.webm", expires, sig, now)
    assert verify_playback(SECRET, "a.webm", expires, sig, expires - 600)


def test_signing_needs_a_secret() -> None:
    with pytest.raises(ValueError):
        sign_playback("", "a.webm", 1)
    with pytest.raises(ValueError):
        LocalMediaStore(Path("x"), "")
