"""The media port on a local folder: the single-process mode's video store."""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import os
import stat as stat_mod
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from .base import (
    MAX_URL_TTL,
    InvalidKey,
    InvalidRange,
    MediaError,
    MediaStore,
    ObjectInfo,
    ObjectNotFound,
    check_key,
)
from .signing import PLAYBACK_PATH, sign_playback

DEFAULT_CHUNK_SIZE = 256 * 1024
_DEFAULT_TYPE = "application/octet-stream"


def _type_path(path: Path) -> Path:
    # Hidden (dot) names can never be keys (check_key), so the sidecar cannot collide with one.
    return path.with_name(f".{path.name}.type")


class LocalMediaStore(MediaStore):
    """Objects are files under `root`; a key's `/` separators become sub-folders.

    Each object's content type sits beside it in a hidden sidecar file. Blocking file calls run in
    worker threads, at most `chunk_size` bytes at a time.
    """

    def __init__(
        self,
        root: Path,
        secret: str | bytes,
        *,
        url_prefix: str = PLAYBACK_PATH,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        if not secret:
            raise ValueError("LocalMediaStore needs a secret to sign playback URLs")
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        self.root = Path(root)
        self._secret = secret
        self._url_prefix = url_prefix.rstrip("/")
        self._chunk_size = chunk_size

    def _path(self, key: str) -> Path:
        check_key(key)
        path = self.root / key
        # check_key already rules out `..`; this also catches a symlink inside the folder that
        # points outside it.
        root = os.path.realpath(self.root)
        real = os.path.realpath(path)
        if os.path.commonpath([root, real]) != root or real == root:
            raise InvalidKey("key resolves outside the media folder")
        return path

    async def start(self) -> None:
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)

    async def close(self) -> None:
        return None

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], *, content_type: str) -> int:
        path = self._path(key)
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        # Same folder as the target so the final rename is atomic (same file system).
        fd, tmp_name = await asyncio.to_thread(
            tempfile.mkstemp, dir=path.parent, prefix=".tmp-", suffix=".part"
        )
        size = 0
        try:
            with os.fdopen(fd, "wb") as file:
                buffer = bytearray()
                async for chunk in chunks:
                    buffer += chunk
                    size += len(chunk)
                    if len(buffer) >= self._chunk_size:
                        await asyncio.to_thread(file.write, buffer)
                        buffer = bytearray()
                await asyncio.to_thread(_finish_file, file, buffer)
            await asyncio.to_thread(_commit, Path(tmp_name), path, content_type)
        except BaseException:
            # Synchronous on purpose: after a cancellation, an await here could be cancelled
            # again and leave the partial file behind. One unlink is a quick syscall.
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise
        return size

    async def stat(self, key: str) -> ObjectInfo:
        path = self._path(key)
        return await asyncio.to_thread(_stat, key, path)

    async def read(
        self, key: str, *, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        if start < 0 or (end is not None and end < start):
            raise ValueError(f"bad range {start}-{end}")
        path = self._path(key)
        file = await asyncio.to_thread(_open_regular, key, path)
        try:
            size = os.fstat(file.fileno()).st_size
            if size == 0 and start == 0:
                return
            if start >= size:
                raise InvalidRange(f"range starts at {start}, object has {size} bytes")
            last = size - 1 if end is None else min(end, size - 1)
            remaining = last - start + 1
            await asyncio.to_thread(file.seek, start)
            while remaining > 0:
                data = await asyncio.to_thread(file.read, min(self._chunk_size, remaining))
                if not data:
                    raise MediaError(f"{key}: file shrank while being read")
                remaining -= len(data)
                yield data
        finally:
            file.close()

    async def delete(self, key: str) -> None:
        path = self._path(key)
        await asyncio.to_thread(_delete, path)

    async def exists(self, key: str) -> bool:
        path = self._path(key)
        return await asyncio.to_thread(path.is_file)

    async def playback_url(self, key: str, *, ttl: timedelta) -> str:
        check_key(key)
        if ttl <= timedelta(0):
            raise ValueError("ttl must be positive")
        ttl = min(ttl, MAX_URL_TTL)
        expires = int(time.time() + ttl.total_seconds())
        sig = sign_playback(self._secret, key, expires)
        return f"{self._url_prefix}/{quote(key, safe='/')}?expires={expires}&sig={sig}"

    async def ping(self) -> bool:
        return await asyncio.to_thread(_usable_dir, self.root)


def _finish_file(file: BinaryIO, tail: bytearray) -> None:
    if tail:
        file.write(tail)
    file.flush()
    # The appeal may be submitted right after the upload returns: the bytes must be on disk
    # before the rename makes them visible.
    os.fsync(file.fileno())


def _commit(tmp: Path, path: Path, content_type: str) -> None:
    type_path = _type_path(path)
    type_tmp = type_path.with_name(type_path.name + f".{os.getpid()}.{id(tmp)}")
    try:
        type_tmp.write_text(content_type or _DEFAULT_TYPE, encoding="utf-8")
        os.replace(type_tmp, type_path)
    finally:
        with contextlib.suppress(OSError):
            type_tmp.unlink()
    os.replace(tmp, path)


def _stat(key: str, path: Path) -> ObjectInfo:
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise ObjectNotFound(key) from None
    except OSError as exc:
        raise MediaError(f"{key}: {exc.strerror}") from exc
    if not stat_mod.S_ISREG(st.st_mode):
        raise ObjectNotFound(key)
    try:
        content_type = _type_path(path).read_text(encoding="utf-8").strip()
    except OSError:
        content_type = mimetypes.guess_type(path.name)[0] or _DEFAULT_TYPE
    return ObjectInfo(key=key, size=st.st_size, content_type=content_type or _DEFAULT_TYPE)


def _open_regular(key: str, path: Path) -> BinaryIO:
    try:
        file = path.open("rb")
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        raise ObjectNotFound(key) from None
    except OSError as exc:
        raise MediaError(f"{key}: {exc.strerror}") from exc
    if not stat_mod.S_ISREG(os.fstat(file.fileno()).st_mode):
        file.close()
        raise ObjectNotFound(key)
    return file


def _delete(path: Path) -> None:
    for victim in (path, _type_path(path)):
        try:
            victim.unlink()
        except (FileNotFoundError, NotADirectoryError):
            pass
        except IsADirectoryError:
            # A "folder" key (prefix of other keys) is not an object: nothing to delete.
            pass
        except OSError as exc:
            raise MediaError(f"cannot delete: {exc.strerror}") from exc


def _usable_dir(root: Path) -> bool:
    return root.is_dir() and os.access(root, os.W_OK | os.X_OK)
