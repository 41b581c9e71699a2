"""The media port: where video objects live. Adapters: S3 (`minio` client) and a local folder."""

from __future__ import annotations

import abc
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

MAX_URL_TTL = timedelta(minutes=15)


class MediaError(Exception):
    """Base of the media errors; the underlying library's errors are translated into these."""


class ObjectNotFound(MediaError):
    pass


class InvalidKey(MediaError, ValueError):
    """The key breaks the key rules of `check_key` (both adapters apply the same rules)."""


class InvalidRange(MediaError):
    """The requested range starts at or past the end of a non-empty object (HTTP 416)."""


MAX_KEY_BYTES = 1024
# A file name's limit on every file system the local adapter meets (and S3 has no other).
MAX_SEGMENT_BYTES = 255


def check_key(key: str) -> str:
    """Return `key` if it is a valid object key, else raise `InvalidKey`.

    Keys are `/`-separated segments. The rules are the same for every adapter so that a key that
    works in development also works against S3, and a local key can never leave its folder: no
    empty segment (so no leading, trailing or double `/`), no segment starting with `.` (which
    rules out `.`, `..` and the adapters' own hidden temporary files), no backslash, no control
    characters, nothing that is not text (a lone surrogate), at most 1024 UTF-8 bytes and 255 in
    one segment.
    """
    if not isinstance(key, str) or not key:
        raise InvalidKey("empty key")
    try:
        encoded = key.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidKey("key is not text") from None
    if len(encoded) > MAX_KEY_BYTES:
        raise InvalidKey("key too long")
    if "\\" in key or any(unicodedata.category(c) == "Cc" for c in key):
        raise InvalidKey("key has a backslash or a control character")
    for segment in key.split("/"):
        if not segment or segment.startswith("."):
            raise InvalidKey("key has an empty segment or one starting with '.'")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise InvalidKey("key has a segment longer than 255 bytes")
    return key


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    content_type: str


class MediaStore(abc.ABC):
    @abc.abstractmethod
    async def start(self) -> None:
        """Create the bucket / folder if missing; safe to call again or from several processes."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], *, content_type: str) -> int:
        """Write an object of unknown length from a stream; return its size.

        Memory stays bounded by a small multiple of one part, whatever the object's size. The
        object appears only once complete; an object already under `key` is replaced atomically.
        If `chunks` raises (or the call is cancelled), the write is abandoned (an S3 multipart
        upload is aborted, a partial file removed), `key` keeps what it had before, and the
        exception propagates unchanged.
        """

    @abc.abstractmethod
    async def stat(self, key: str) -> ObjectInfo:
        """Raise `ObjectNotFound` if missing."""

    @abc.abstractmethod
    def read(self, key: str, *, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Stream bytes [start, end] (inclusive end, like HTTP ranges); None means to the end.

        An `end` past the object's end is clamped. Errors surface on the first iteration:
        `ObjectNotFound`, or `InvalidRange` when `start` is at or past the end of a non-empty
        object. A negative `start` or `end < start` is a `ValueError`.
        """

    @abc.abstractmethod
    async def delete(self, key: str) -> None:
        """Remove the object; no error if it is missing."""

    @abc.abstractmethod
    async def exists(self, key: str) -> bool: ...

    @abc.abstractmethod
    async def playback_url(self, key: str, *, ttl: timedelta) -> str:
        """A URL that plays the object for at most `ttl` (capped at `MAX_URL_TTL`, 15 minutes).

        S3: a presigned GET. Local folder: a relative URL under `/api/v1/media/play/` carrying an
        expiry and an HMAC that media-store checks with `signing.verify_playback`. The object's
        existence is not checked. A `ttl` that is not positive is a `ValueError`.
        """

    @abc.abstractmethod
    async def ping(self) -> bool:
        """True when the store is reachable and usable; never raises."""

    async def expire_after(self, prefixes: tuple[str, ...], days: int) -> bool:
        """Have the store itself delete objects under `prefixes` once `days` old; True if set.

        A second line of defence behind the retention job, for a store that has one (an S3
        bucket's lifecycle rules); a local folder has none, and the retention job alone applies.
        """
        return False
