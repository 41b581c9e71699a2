"""The media port on S3 (MinIO in production, moto in tests) through the sync `minio` client.

Every client call runs in a worker thread so the event loop never blocks on the network.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any, NoReturn, cast
from urllib.parse import parse_qs, unquote, urlsplit

import urllib3
from minio import Minio
from minio.datatypes import Part
from minio.error import MinioException, S3Error
from minio.helpers import check_bucket_name

from ..memory import map_large_buffers
from .base import (
    MAX_URL_TTL,
    InvalidRange,
    MediaError,
    MediaStore,
    ObjectInfo,
    ObjectNotFound,
    check_key,
)
from .s3_stream import READ_AHEAD, MiB, SourceFailed, StreamReader

# Each part is this much memory while it is read and sent. 6 MiB rather than minio's 8: ten
# uploads at once grew media-store by 61-62 MB instead of 72 (bench/upload.py, goal 64), for
# the same aggregate throughput.
DEFAULT_PART_SIZE = 6 * MiB
MIN_PART_SIZE = 5 * MiB  # the S3 minimum for every part but the last
DEFAULT_READ_CHUNK = 256 * 1024
DEFAULT_MAX_UPLOADS = 16
# Parts of one upload on their way to S3 at once: S3 servers take parts in parallel, and while
# one part is hashed and sent the next can be; three is minio's own default for put_object.
DEFAULT_PARTS_IN_FLIGHT = 3
# Parts being read or on their way, of all uploads of the process together: with many uploads
# at once the S3 server is busy anyway, and each such part is `part_size` bytes of memory.
DEFAULT_PROCESS_PARTS_IN_FLIGHT = 4
_NOT_FOUND_CODES = frozenset({"NoSuchKey", "NoSuchObject", "NoSuchVersion", "ResourceNotFound"})
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _raise_media_error(exc: BaseException, key: str | None) -> NoReturn:
    if isinstance(exc, S3Error):
        if exc.code in _NOT_FOUND_CODES and key is not None:
            raise ObjectNotFound(key) from exc
        if exc.code == "InvalidRange":
            raise InvalidRange(f"{key}: {exc.message}") from exc
        raise MediaError(f"S3 {exc.code}: {exc.message}") from exc
    raise MediaError(f"S3 request failed: {type(exc).__name__}: {exc}") from exc


# OSError covers socket errors that urllib3 lets through outside its own exception types.
_LIB_ERRORS = (MinioException, urllib3.exceptions.HTTPError, OSError)


def _as_body(part: bytearray) -> bytes:
    # minio is typed for bytes but only hashes, measures and sends the body, which a bytearray
    # does as well; bytes(part) would copy every part once more.
    return cast(bytes, part)


@contextlib.contextmanager
def _translated(key: str | None = None) -> Iterator[None]:
    try:
        yield
    except _LIB_ERRORS as exc:
        _raise_media_error(exc, key)


class S3MediaStore(MediaStore):
    """Objects in one bucket of an S3-compatible server.

    A streamed upload is sent as a multipart upload of `part_size` parts, up to
    `parts_in_flight` of them at once (each in a thread of its own), while the next part is
    read: one upload holds at most `parts_in_flight + 1` parts, whatever the object's size, and
    all uploads together hold at most `process_parts_in_flight` parts, being read or on their
    way; an upload waiting for a slot stops reading, and its sender waits with it. An
    object that fits in one part is sent with one PUT once its stream has ended. The multipart
    upload is completed only after the stream has ended, and aborted on any failure, so a
    refused or broken stream never becomes an object. minio's own parallel mode is not used: it
    leaves its worker threads blocked forever when the source fails.
    """

    def __init__(
        self,
        *,
        endpoint: str,
        bucket: str,
        access_key: str | None = None,
        secret_key: str | None = None,
        secure: bool = True,
        region: str | None = None,
        part_size: int = DEFAULT_PART_SIZE,
        read_chunk_size: int = DEFAULT_READ_CHUNK,
        max_concurrent_uploads: int = DEFAULT_MAX_UPLOADS,
        parts_in_flight: int = DEFAULT_PARTS_IN_FLIGHT,
        process_parts_in_flight: int = DEFAULT_PROCESS_PARTS_IN_FLIGHT,
        connect_timeout_s: float = 10.0,
        read_timeout_s: float = 120.0,
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes (S3 minimum)")
        if min(read_chunk_size, max_concurrent_uploads, parts_in_flight) <= 0:
            raise ValueError(
                "read_chunk_size, max_concurrent_uploads and parts_in_flight must be positive"
            )
        if process_parts_in_flight < parts_in_flight:
            raise ValueError("process_parts_in_flight must be at least parts_in_flight")
        try:
            check_bucket_name(bucket, strict=True)
        except ValueError:
            # Caught here, not on the first request: start() should not be where a typo shows.
            raise ValueError(f"invalid S3 bucket name {bucket!r}") from None
        self.bucket = bucket
        self.region = region
        self._part_size = part_size
        self._parts_in_flight = parts_in_flight
        self._part_slots = threading.BoundedSemaphore(process_parts_in_flight)
        map_large_buffers()
        self._read_chunk = read_chunk_size
        # minio's default pool waits 5 minutes to connect and retries 5 times, which would make a
        # health check against a dead server hang; these limits fail within seconds instead.
        self._http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=connect_timeout_s, read=read_timeout_s),
            # A connection per part in flight, so parallel parts never wait for each other's.
            maxsize=max(10, max_concurrent_uploads, process_parts_in_flight),
            retries=urllib3.Retry(
                total=3, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]
            ),
        )
        self._client = Minio(
            endpoint,
            access_key=access_key,
            secret_key=secret_key,
            secure=secure,
            region=region,
            http_client=self._http,
        )
        # Uploads hold a thread for as long as the client keeps sending; a pool of their own keeps
        # them from starving the loop's default executor that every short call uses.
        self._uploads = concurrent.futures.ThreadPoolExecutor(
            max_workers=max_concurrent_uploads, thread_name_prefix="s3-upload"
        )
        # Parts are sent from a pool of their own: an upload thread waiting for its parts must
        # never hold the worker one of them needs.
        self._parts = concurrent.futures.ThreadPoolExecutor(
            max_workers=process_parts_in_flight, thread_name_prefix="s3-part"
        )

    @classmethod
    def from_url(cls, url: str, **options: Any) -> S3MediaStore:
        """Build from `s3://ACCESS:SECRET@host:port/bucket?secure=false&region=us-east-1`.

        Credentials are percent-decoded; `secure` defaults to true; `options` go to the
        constructor (e.g. `part_size`). Error messages never repeat the URL (it holds a secret).
        """
        parts = urlsplit(url)
        if parts.scheme != "s3":
            raise ValueError("media URL must start with s3://")
        endpoint = parts.netloc.rpartition("@")[2]
        if not endpoint:
            raise ValueError("media URL has no host")
        bucket = parts.path.strip("/")
        if not bucket or "/" in bucket:
            raise ValueError("media URL must name exactly one bucket as its path")
        query = parse_qs(parts.query, keep_blank_values=True)
        unknown = set(query) - {"secure", "region"}
        if unknown:
            raise ValueError(f"media URL has unknown parameters: {sorted(unknown)}")
        secure = True
        if "secure" in query:
            flag = query["secure"][-1].lower()
            if flag not in _TRUE | _FALSE:
                raise ValueError("media URL: secure must be true or false")
            secure = flag in _TRUE
        region = query["region"][-1] if query.get("region") else None
        return cls(
            endpoint=endpoint,
            bucket=bucket,
            access_key=unquote(parts.username) if parts.username else None,
            secret_key=unquote(parts.password) if parts.password is not None else None,
            secure=secure,
            region=region,
            **options,
        )

    async def start(self) -> None:
        def create() -> None:
            with _translated():
                if self._client.bucket_exists(self.bucket):
                    return
                try:
                    self._client.make_bucket(self.bucket, location=self.region)
                except S3Error as exc:
                    # Another process created it between our check and our create.
                    if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise

        await asyncio.to_thread(create)

    async def expire_after(self, prefixes: tuple[str, ...], days: int) -> bool:
        from minio.commonconfig import ENABLED, Filter
        from minio.lifecycleconfig import Expiration, LifecycleConfig, Rule

        # The whole configuration is replaced, so starting again (or another replica starting)
        # leaves the same rules, one per prefix, whatever was there before.
        config = LifecycleConfig(
            [
                Rule(
                    ENABLED,
                    rule_filter=Filter(prefix=prefix),
                    rule_id=f"dialog-expire-{prefix.strip('/') or 'all'}",
                    expiration=Expiration(days=days),
                )
                for prefix in prefixes
            ]
        )

        def put() -> None:
            with _translated():
                self._client.set_bucket_lifecycle(self.bucket, config)

        await asyncio.to_thread(put)
        return True

    async def close(self) -> None:
        self._uploads.shutdown(wait=False, cancel_futures=True)
        self._parts.shutdown(wait=False, cancel_futures=True)
        self._http.clear()

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], *, content_type: str) -> int:
        check_key(key)
        loop = asyncio.get_running_loop()
        source = StreamReader(chunks, loop, read_ahead=READ_AHEAD)
        source.start()
        upload = loop.run_in_executor(self._uploads, self._put_blocking, key, source, content_type)
        try:
            # Shielded: on cancellation the thread must still finish (aborting the multipart
            # upload) before we return.
            await asyncio.shield(upload)
        except asyncio.CancelledError:
            source.cancel()
            await asyncio.wait({upload})
            if not upload.cancelled() and upload.exception() is None:
                # The last part went through before the cancellation reached the thread.
                with contextlib.suppress(MediaError):
                    await self.delete(key)
            raise
        except SourceFailed:
            pass
        except MediaError:
            if source.error is None:
                raise
        finally:
            await source.stop()
        if source.error is not None:
            # The caller's own exception, whatever minio made of it (e.g. a failed abort).
            raise source.error
        return source.size

    def _put_blocking(self, key: str, source: StreamReader, content_type: str) -> None:
        headers: dict[str, str | list[str] | tuple[str]] = {"Content-Type": content_type}
        # A slot is taken before a part is read: it stands for the part's memory until the
        # part is sent, so that reading, not only sending, stays within the process's budget.
        self._part_slots.acquire()
        slot_held = True
        try:
            data = source.read(self._part_size)
            if len(data) < self._part_size:
                # A short read is the end of a stream that passed its checks: one PUT.
                self._client._put_object(self.bucket, key, _as_body(data), headers)
                return
            upload_id = self._client._create_multipart_upload(self.bucket, key, dict(headers))
            try:
                # The part and its slot go to _send_parts; no name here may keep the part
                # alive past its slot, for the whole upload.
                first = [data]
                del data
                slot_held = False
                parts = self._send_parts(key, upload_id, first, source)
                self._client._complete_multipart_upload(self.bucket, key, upload_id, parts)
            except BaseException:
                # Parts already sent are dropped with the upload; the key keeps what it had.
                with contextlib.suppress(*_LIB_ERRORS):
                    self._client._abort_multipart_upload(self.bucket, key, upload_id)
                raise
        except SourceFailed:
            raise
        except _LIB_ERRORS as exc:
            _raise_media_error(exc, key)
        finally:
            if slot_held:
                self._part_slots.release()

    def _send_parts(
        self, key: str, upload_id: str, first: list[bytearray], source: StreamReader
    ) -> list[Part]:
        """Send the part in `first` and the rest of `source` as parts, a few at once; their
        list in order.

        The first part comes with a slot of the process's part budget, taken out of `first`
        so that only the sending holds it. The next part is read while
        earlier ones are on their way, each once a slot is free; at most `parts_in_flight` of
        one upload are sent or waiting, so the reader stops (and the sender with it) when S3
        is the slower side.
        """
        sending: set[concurrent.futures.Future[Part]] = set()
        done: list[Part] = []
        number = 0
        slot_held = True
        data = first.pop()
        try:
            while data:
                number += 1
                future = self._parts.submit(self._send_part, key, upload_id, number, data)
                # Released however the part ends: sent, failed, or cancelled before it started.
                future.add_done_callback(lambda _: self._part_slots.release())
                slot_held = False
                sending.add(future)
                if len(data) < self._part_size:
                    break  # the last part: the stream has ended
                data = bytearray()  # the part is the future's now; it goes once it is sent
                while len(sending) >= self._parts_in_flight:
                    finished, sending = concurrent.futures.wait(
                        sending, return_when=concurrent.futures.FIRST_COMPLETED
                    )
                    done.extend(f.result() for f in finished)  # a failed part raises here
                self._part_slots.acquire()
                slot_held = True
                data = source.read(self._part_size)
            for future in concurrent.futures.as_completed(sending):
                done.append(future.result())
        finally:
            if slot_held:
                self._part_slots.release()
            # On failure the upload is aborted only once no part of it is still being sent.
            for future in sending:
                future.cancel()
            concurrent.futures.wait(sending)
        return sorted(done, key=lambda part: part.part_number)

    def _send_part(self, key: str, upload_id: str, number: int, data: bytearray) -> Part:
        etag = self._client._upload_part(self.bucket, key, _as_body(data), None, upload_id, number)
        return Part(number, etag)

    async def stat(self, key: str) -> ObjectInfo:
        check_key(key)

        def call() -> ObjectInfo:
            with _translated(key):
                info = self._client.stat_object(self.bucket, key)
            return ObjectInfo(
                key=key,
                size=int(info.size or 0),
                content_type=info.content_type or "application/octet-stream",
            )

        return await asyncio.to_thread(call)

    async def read(
        self, key: str, *, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        if start < 0 or (end is not None and end < start):
            raise ValueError(f"bad range {start}-{end}")
        check_key(key)
        length = 0 if end is None else end - start + 1

        def open_object() -> urllib3.BaseHTTPResponse | None:
            try:
                with _translated(key):
                    return self._client.get_object(self.bucket, key, offset=start, length=length)
            except InvalidRange:
                if start == 0:
                    return None  # any range of an empty object is unsatisfiable: nothing to send
                raise

        response = await asyncio.to_thread(open_object)
        if response is None:
            return
        try:
            stream = response.stream(self._read_chunk)

            def next_chunk() -> bytes | None:
                with _translated(key):
                    return next(stream, None)

            while (chunk := await asyncio.to_thread(next_chunk)) is not None:
                yield chunk
        finally:
            response.close()
            response.release_conn()

    async def delete(self, key: str) -> None:
        check_key(key)

        def call() -> None:
            with _translated(key):
                self._client.remove_object(self.bucket, key)

        await asyncio.to_thread(call)

    async def exists(self, key: str) -> bool:
        try:
            await self.stat(key)
        except ObjectNotFound:
            return False
        return True

    async def playback_url(self, key: str, *, ttl: timedelta) -> str:
        check_key(key)
        if ttl <= timedelta(0):
            raise ValueError("ttl must be positive")
        expires = min(ttl, MAX_URL_TTL)

        def call() -> str:
            with _translated(key):
                return self._client.presigned_get_object(self.bucket, key, expires=expires)

        return await asyncio.to_thread(call)

    async def ping(self) -> bool:
        def call() -> bool:
            try:
                return bool(self._client.bucket_exists(self.bucket))
            except (*_LIB_ERRORS, ValueError):
                return False

        return await asyncio.to_thread(call)
