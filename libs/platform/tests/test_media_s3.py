"""The S3 media adapter against moto's S3 server, through the same `minio` code production uses."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import subprocess
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import boto3
import httpx
import pytest
from pydantic import SecretStr

from dialog_platform.media import (
    MAX_URL_TTL,
    InvalidKey,
    InvalidRange,
    LocalMediaStore,
    ObjectNotFound,
    S3MediaStore,
    create_media,
)
from dialog_platform.media.s3 import DEFAULT_READ_CHUNK, MIN_PART_SIZE
from dialog_platform.net import free_port, wait_for_port
from dialog_platform.settings import CommonSettings
from dialog_platform.testing.servers import s3_media_url
from dialog_platform.testing.streams import Boom, collect, expected, pieces, source

MiB = 1024 * 1024
PART = MIN_PART_SIZE


def bucket_of(url: str) -> str:
    return urlsplit(url).path.strip("/")


def boto(endpoint: str) -> Any:
    # An independent client to look at the server's state (minio hides multipart listings).
    return boto3.client(
        "s3",
        endpoint_url=f"http://{endpoint}",
        aws_access_key_id="testing",
        aws_secret_access_key="testing-secret",
        region_name="us-east-1",
    )


def open_uploads(endpoint: str, bucket: str, key: str) -> list[dict[str, Any]]:
    listing = boto(endpoint).list_multipart_uploads(Bucket=bucket, Prefix=key)
    return [u for u in listing.get("Uploads", []) if u["Key"] == key]


@pytest.fixture
async def store(s3_url: str) -> AsyncIterator[S3MediaStore]:
    media = S3MediaStore.from_url(s3_url, part_size=PART)
    await media.start()
    yield media
    await media.close()


@pytest.fixture(scope="module")
def separate_s3() -> Iterator[str]:
    """moto in a process of its own, so tracemalloc sees only the client's allocations."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port("127.0.0.1", port, timeout=60)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def test_start_creates_bucket_and_ping(s3_url: str) -> None:
    media = S3MediaStore.from_url(s3_url)
    assert await media.ping() is False  # the bucket does not exist yet
    await media.start()
    await media.start()  # idempotent
    assert await media.ping() is True
    await media.close()


async def test_ping_is_false_when_the_server_is_down() -> None:
    media = S3MediaStore.from_url(s3_media_url(f"127.0.0.1:{free_port()}", "nothing"))
    started = time.monotonic()
    assert await media.ping() is False
    assert time.monotonic() - started < 15
    await media.close()


async def test_small_object_round_trip(store: S3MediaStore) -> None:
    size = await store.put_stream(
        "appeals/2025/a.webm", source(1, 100_000), content_type="video/webm"
    )
    assert size == 100_000
    info = await store.stat("appeals/2025/a.webm")
    assert (info.key, info.size) == ("appeals/2025/a.webm", 100_000)
    assert info.content_type == "video/webm"
    assert await store.exists("appeals/2025/a.webm")
    assert await collect(store.read("appeals/2025/a.webm")) == expected(1, 100_000, 0, 99_999)
    await store.delete("appeals/2025/a.webm")
    assert not await store.exists("appeals/2025/a.webm")
    await store.delete("appeals/2025/a.webm")  # deleting a missing object is no error


async def test_missing_objects(store: S3MediaStore) -> None:
    with pytest.raises(ObjectNotFound):
        await store.stat("no/such.webm")
    with pytest.raises(ObjectNotFound):
        await collect(store.read("no/such.webm"))
    assert not await store.exists("no/such.webm")


async def test_ranges_at_the_edges(store: S3MediaStore) -> None:
    await store.put_stream("r.bin", source(2, 1000), content_type="application/octet-stream")
    assert await collect(store.read("r.bin", start=990, end=5000)) == expected(2, 1000, 990, 999)
    assert await collect(store.read("r.bin", start=999)) == expected(2, 1000, 999, 999)
    with pytest.raises(InvalidRange):
        await collect(store.read("r.bin", start=1000))
    with pytest.raises(ValueError):
        await collect(store.read("r.bin", start=10, end=5))

    await store.put_stream("empty.bin", source(2, 0), content_type="application/octet-stream")
    assert (await store.stat("empty.bin")).size == 0
    assert await collect(store.read("empty.bin")) == b""
    assert await collect(store.read("empty.bin", start=0, end=10)) == b""


async def test_invalid_keys_are_refused_before_any_request(store: S3MediaStore) -> None:
    for key in ("../x", "/abs", "a//b", ".hidden", ""):
        with pytest.raises(InvalidKey):
            await store.put_stream(key, source(3, 10), content_type="video/webm")
        with pytest.raises(InvalidKey):
            await store.stat(key)


async def test_streams_100_mb_with_bounded_memory_and_range_reads(separate_s3: str) -> None:
    total = 100 * 1000 * 1000 + 12_345
    seed = 50
    media = S3MediaStore.from_url(s3_media_url(separate_s3, "big"), part_size=PART)
    await media.start()
    key = "appeals/big.webm"

    tracemalloc.start()
    try:
        size = await media.put_stream(key, source(seed, total), content_type="video/webm")
        _, upload_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()

        digest = hashlib.sha256()
        largest_chunk = 0
        async for chunk in media.read(key):
            digest.update(chunk)
            largest_chunk = max(largest_chunk, len(chunk))
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert size == total
    assert (await media.stat(key)).size == total
    # Three parts on their way, the next one being filled, the read ahead and the HTTP
    # client's own buffers (see S3MediaStore; 30.4 MiB was seen on a busy machine when parts
    # were still joined at the end): bounded by the part size (here 7 parts = 35 MiB), not the
    # 95 MiB object's size.
    assert upload_peak < 7 * PART, f"upload peak {upload_peak / MiB:.1f} MiB"
    assert read_peak < 4 * MiB, f"read peak {read_peak / MiB:.1f} MiB"
    assert largest_chunk <= DEFAULT_READ_CHUNK

    source_digest = hashlib.sha256()
    for piece in pieces(seed, total):
        source_digest.update(piece)
    assert digest.hexdigest() == source_digest.hexdigest()

    middle = 5 * PART - 500_000  # straddles the boundary between parts 5 and 6
    for start, end in ((0, 999), (middle, middle + 999_999), (total - 1000, total - 1)):
        got = await collect(media.read(key, start=start, end=end))
        assert got == expected(seed, total, start, end), (start, end)
    tail = await collect(media.read(key, start=total - 300_000))
    assert tail == expected(seed, total, total - 300_000, total - 1)
    await media.close()


async def test_failing_stream_leaves_no_object_and_no_multipart_upload(
    store: S3MediaStore, s3_endpoint: str, s3_url: str
) -> None:
    bucket, key = bucket_of(s3_url), "appeals/failed.webm"
    uploads_seen_before_failure: list[dict[str, Any]] = []
    error = Boom("the booth went away")

    async def failing() -> AsyncIterator[bytes]:
        async for piece in source(4, 12 * MiB):
            yield piece
        # Two parts are uploaded by now: the multipart upload the adapter must abort exists.
        uploads_seen_before_failure.extend(
            await asyncio.to_thread(open_uploads, s3_endpoint, bucket, key)
        )
        raise error

    with pytest.raises(Boom) as raised:
        await store.put_stream(key, failing(), content_type="video/webm")
    assert raised.value is error
    assert len(uploads_seen_before_failure) == 1
    assert await asyncio.to_thread(open_uploads, s3_endpoint, bucket, key) == []
    assert not await store.exists(key)


async def test_failure_in_the_first_part_leaves_nothing(store: S3MediaStore) -> None:
    async def failing() -> AsyncIterator[bytes]:
        yield b"\x1a\x45\xdf\xa3"
        raise Boom

    with pytest.raises(Boom):
        await store.put_stream("early.webm", failing(), content_type="video/webm")
    assert not await store.exists("early.webm")


async def test_failed_replacement_keeps_the_previous_object(store: S3MediaStore) -> None:
    await store.put_stream("v.webm", source(5, 1000), content_type="video/webm")

    async def failing() -> AsyncIterator[bytes]:
        async for piece in source(6, 7 * MiB):
            yield piece
        raise Boom

    with pytest.raises(Boom):
        await store.put_stream("v.webm", failing(), content_type="video/webm")
    assert await collect(store.read("v.webm")) == expected(5, 1000, 0, 999)


async def test_cancelled_upload_is_aborted(
    store: S3MediaStore, s3_endpoint: str, s3_url: str
) -> None:
    bucket, key = bucket_of(s3_url), "appeals/cancelled.webm"
    stalled = asyncio.Event()

    async def stalling() -> AsyncIterator[bytes]:
        async for piece in source(7, 11 * MiB):
            yield piece
        stalled.set()
        await asyncio.Event().wait()  # the client stops sending

    task = asyncio.create_task(store.put_stream(key, stalling(), content_type="video/webm"))
    await asyncio.wait_for(stalled.wait(), 30)
    # The first part goes up in the background; on a busy machine the upload may be opened a
    # moment after the source ran dry.
    for _ in range(100):
        if await asyncio.to_thread(open_uploads, s3_endpoint, bucket, key):
            break
        await asyncio.sleep(0.1)
    assert len(await asyncio.to_thread(open_uploads, s3_endpoint, bucket, key)) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await asyncio.to_thread(open_uploads, s3_endpoint, bucket, key) == []
    assert not await store.exists(key)


def presign_is_valid(url: str, secret: str, now: datetime) -> bool:
    """Check a SigV4 query-signed GET as an S3 server does (AWS's documented algorithm).

    Independent of minio: it proves the URL is correctly signed and that its expiry is covered
    by the signature, so a real S3/MinIO refuses it after the TTL.
    """
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    params = dict(query)
    signed = sorted((k, v) for k, v in query if k != "X-Amz-Signature")
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in signed
    )
    canonical_request = "\n".join(
        [
            "GET",
            parts.path,  # minio sent it URI-encoded already
            canonical_query,
            f"host:{parts.netloc}\n",
            params["X-Amz-SignedHeaders"],
            "UNSIGNED-PAYLOAD",
        ]
    )
    amz_date = params["X-Amz-Date"]
    scope = params["X-Amz-Credential"].split("/", 1)[1]
    to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            amz_date,
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    key = ("AWS4" + secret).encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    expires_at = signed_at + timedelta(seconds=int(params["X-Amz-Expires"]))
    return hmac.compare_digest(signature, params["X-Amz-Signature"]) and now <= expires_at


async def test_presigned_url_plays_with_ranges(store: S3MediaStore) -> None:
    await store.put_stream("p/clip.webm", source(8, 50_000), content_type="video/webm")
    url = await store.playback_url("p/clip.webm", ttl=timedelta(minutes=5))
    async with httpx.AsyncClient() as client:
        full = await client.get(url)
        assert full.status_code == 200
        assert full.content == expected(8, 50_000, 0, 49_999)
        assert full.headers["content-type"] == "video/webm"
        part = await client.get(url, headers={"Range": "bytes=1000-1999"})
        assert part.status_code == 206
        assert part.content == expected(8, 50_000, 1000, 1999)


async def test_presigned_url_expires(store: S3MediaStore) -> None:
    # moto serves a presigned URL after its X-Amz-Expires has passed (checked with moto 5.2:
    # 206 two seconds after a 1 s TTL), so expiry cannot be observed through it. What a real
    # server enforces is checked instead: the URL is a valid SigV4 signature whose signed
    # expiry lies `ttl` after signing.
    await store.put_stream("p/short.webm", source(9, 1000), content_type="video/webm")
    before = datetime.now(UTC).replace(microsecond=0)
    url = await store.playback_url("p/short.webm", ttl=timedelta(seconds=2))
    params = dict(parse_qsl(urlsplit(url).query))
    assert params["X-Amz-Expires"] == "2"
    signed_at = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert before <= signed_at <= datetime.now(UTC)
    secret = "testing-secret"
    assert presign_is_valid(url, secret, signed_at + timedelta(seconds=2))
    assert not presign_is_valid(url, secret, signed_at + timedelta(seconds=3))
    longer = url.replace("X-Amz-Expires=2", "X-Amz-Expires=900")
    assert not presign_is_valid(longer, secret, signed_at + timedelta(seconds=1))
    assert not presign_is_valid(url, "another-secret", signed_at)


async def test_presigned_ttl_is_capped_at_15_minutes(store: S3MediaStore) -> None:
    url = await store.playback_url("p/x.webm", ttl=timedelta(hours=6))
    assert dict(parse_qsl(urlsplit(url).query))["X-Amz-Expires"] == str(
        int(MAX_URL_TTL.total_seconds())
    )
    with pytest.raises(ValueError):
        await store.playback_url("p/x.webm", ttl=timedelta(0))


def test_from_url_parses_credentials_and_options() -> None:
    media = S3MediaStore.from_url(
        "s3://AK%2B1:se%2Fcr%40et@minio.local:9000/videos?secure=false&region=kz-1",
        part_size=16 * MiB,
    )
    assert (media.bucket, media.region) == ("videos", "kz-1")
    credentials = media._client._provider.retrieve()  # type: ignore[union-attr]
    assert (credentials.access_key, credentials.secret_key) == ("AK+1", "se/cr@et")
    assert not media._client._base_url.is_https
    assert S3MediaStore.from_url("s3://a:b@h:9000/vid")._client._base_url.is_https


@pytest.mark.parametrize(
    "url",
    [
        "http://a:hunter2@h:9000/vid",
        "s3://a:hunter2@h:9000/",
        "s3://a:hunter2@h:9000/vid/extra",
        "s3://a:hunter2@h:9000/vid?secure=maybe",
        "s3://a:hunter2@h:9000/vid?bucket=x",
        "s3://a:hunter2@h:9000/Bad_Bucket",
    ],
)
def test_from_url_refuses_bad_urls_without_echoing_the_secret(url: str) -> None:
    with pytest.raises(ValueError) as raised:
        S3MediaStore.from_url(url)
    assert "hunter2" not in str(raised.value)


def test_part_size_below_the_s3_minimum_is_refused() -> None:
    with pytest.raises(ValueError):
        S3MediaStore.from_url("s3://a:b@h:9000/vid", part_size=MiB)
    with pytest.raises(ValueError):  # the process's parts could never carry one upload's
        S3MediaStore.from_url("s3://a:b@h:9000/vid", parts_in_flight=4, process_parts_in_flight=2)


async def test_uploads_at_once_share_the_parts_in_flight_and_broken_ones_hold_nothing_back(
    s3_url: str,
) -> None:
    # Two parts in flight for the whole process, five uploads of three parts and more at once,
    # two of which break after their second part: every good one arrives whole, and the broken
    # ones leave nothing and keep no part's place.
    media = S3MediaStore.from_url(
        s3_url, part_size=PART, parts_in_flight=2, process_parts_in_flight=2
    )
    await media.start()
    total = 3 * PART + 777

    async def broken(seed: int) -> AsyncIterator[bytes]:
        async for piece in source(seed, 2 * PART + 10):
            yield piece
        raise Boom

    async def one(n: int) -> int | BaseException:
        chunks = broken(n) if n in (1, 3) else source(n, total)
        try:
            return await media.put_stream(f"many/{n}.webm", chunks, content_type="video/webm")
        except Boom as exc:
            return exc

    results = await asyncio.wait_for(asyncio.gather(*(one(n) for n in range(5))), 120)
    for n, result in enumerate(results):
        if n in (1, 3):
            assert isinstance(result, Boom)
            assert not await media.exists(f"many/{n}.webm")
        else:
            assert result == total
            got = await collect(media.read(f"many/{n}.webm"))
            assert got == expected(n, total, 0, total - 1), n
    # Nothing is held: an upload after them still gets both places at once.
    assert (
        await asyncio.wait_for(
            media.put_stream("many/after.webm", source(9, total), content_type="video/webm"), 60
        )
        == total
    )
    await media.close()


async def test_many_uploads_at_once_hold_no_more_parts_than_the_process_budget(
    separate_s3: str,
) -> None:
    # Ten uploads of four parts at once with a budget of three parts for the process: a part
    # takes its place in the budget before it is read, so the uploads waiting for a place stop
    # reading instead of each holding a part. Without that, ten parts would be held at once.
    media = S3MediaStore.from_url(
        s3_media_url(separate_s3, "many"),
        part_size=PART,
        parts_in_flight=2,
        process_parts_in_flight=3,
    )
    await media.start()
    total = 4 * PART - 123
    tracemalloc.start()
    try:
        sizes = await asyncio.wait_for(
            asyncio.gather(
                *(
                    media.put_stream(f"many/{n}.webm", source(n, total), content_type="video/webm")
                    for n in range(10)
                )
            ),
            180,
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sizes == [total] * 10
    for n in (0, 9):
        assert await collect(media.read(f"many/{n}.webm")) == expected(n, total, 0, total - 1)
    # Three parts, each briefly twice as it is joined, and each upload's read ahead (1 MiB and
    # the pieces in hand); ten parts would be 50 MiB on their own.
    assert peak < 6 * PART + 10 * 2.5 * MiB, f"peak {peak / MiB:.1f} MiB"
    await media.close()


async def test_create_media_picks_the_adapter(s3_url: str, data_dir: Path) -> None:
    s3 = create_media(CommonSettings(media_url=SecretStr(s3_url), data_dir=data_dir))
    assert isinstance(s3, S3MediaStore)
    assert s3.bucket == bucket_of(s3_url)
    await s3.start()
    assert await s3.ping()
    await s3.close()

    local = create_media(CommonSettings(media_url=None, data_dir=data_dir))
    assert isinstance(local, LocalMediaStore)
    assert local.root == data_dir / "media"

    with pytest.raises(ValueError):
        create_media(CommonSettings(media_url=SecretStr("ftp://x/y"), data_dir=data_dir))


async def test_the_bucket_expires_old_videos_by_its_own_rule(
    store: S3MediaStore, s3_endpoint: str
) -> None:
    assert await store.expire_after(("appeals/", "answers/"), 2191) is True
    # Set again on every start, by every replica: still one rule per prefix.
    assert await store.expire_after(("appeals/", "answers/"), 2191) is True
    rules = (
        await asyncio.to_thread(
            boto(s3_endpoint).get_bucket_lifecycle_configuration, Bucket=store.bucket
        )
    )["Rules"]
    assert sorted((r["Filter"]["Prefix"], r["Expiration"]["Days"], r["Status"]) for r in rules) == [
        ("answers/", 2191, "Enabled"),
        ("appeals/", 2191, "Enabled"),
    ]
