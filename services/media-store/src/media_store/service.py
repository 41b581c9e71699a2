"""media-store's logic: validate a video while it streams into the object store."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from dialog_platform.component import Clock
from dialog_platform.media import MediaStore, ObjectNotFound
from dialog_platform.streams import capped, coalesce

from . import repository as repo
from .probe import NotWebm, NoVideoStream, ProbeResult, TooLong, WebmProbe
from .settings import MediaStoreSettings

log = logging.getLogger(__name__)

# The pieces an upload is hashed, probed and stored in. Each upload holds about two of them
# besides its part (one being gathered, one read ahead for the store), so with ten uploads at
# once a megabyte here would be 20 MB of the process; a quarter of one still keeps the hops per
# 100 MB video in the hundreds.
UPLOAD_PIECE = 256 * 1024


class UploadRejected(Exception):
    def __init__(self, status: int, code: str) -> None:
        super().__init__(code)
        self.status = status
        self.code = code


class TooLarge(Exception):
    pass


@dataclass
class MediaService:
    db: AsyncDatabase[dict[str, Any]]
    media: MediaStore
    settings: MediaStoreSettings
    clock: Clock

    async def store_video(self, key: str, body: AsyncIterator[bytes]) -> dict[str, Any]:
        """Stream `body` into the store while checking it; on any failure nothing remains.

        `key` is valid (the API checks it, `check_key`)."""
        await repo.start_upload(self.db, key=key, now=self.clock())
        probe = WebmProbe(max_duration_s=self.settings.max_duration_s)
        digest = hashlib.sha256()
        received = 0
        limit = self.settings.max_bytes

        async def checked() -> AsyncIterator[bytes]:
            nonlocal received
            async for chunk in coalesce(capped(body, limit, TooLarge), UPLOAD_PIECE):
                received += len(chunk)
                digest.update(chunk)
                await probe.feed(chunk)
                yield chunk
            # Judged before the last part is sent, so a refused video never becomes an object.
            results.append(await probe.finish())

        results: list[ProbeResult] = []
        try:
            await self.media.put_stream(key, checked(), content_type="video/webm")
            result = results[0]
        except BaseException as exc:
            await probe.abort()
            await self.media.delete(key)
            await repo.delete(self.db, key=key)
            if isinstance(exc, TooLarge):
                raise UploadRejected(413, "video_too_large") from exc
            if isinstance(exc, NotWebm):
                raise UploadRejected(415, "video_not_webm") from exc
            if isinstance(exc, NoVideoStream):
                raise UploadRejected(415, "video_not_webm") from exc
            if isinstance(exc, TooLong):
                raise UploadRejected(422, "video_too_long") from exc
            raise
        meta = {
            "size": received,
            "sha256": digest.hexdigest(),
            "duration_s": round(result.duration_s, 3),
            "video_codec": result.video_codec,
            "width": result.width,
            "height": result.height,
            "has_audio": result.has_audio,
            "content_type": "video/webm",
        }
        await repo.finish_upload(self.db, key=key, meta=meta, now=self.clock())
        log.info(
            "video stored", extra={"key": key, "size": received, "duration_s": meta["duration_s"]}
        )
        return {"key": key, **meta}

    async def meta(self, key: str) -> dict[str, Any] | None:
        doc = await repo.get(self.db, key=key)
        if doc is None or doc.get("status") != "stored":
            return None
        doc["key"] = doc.pop("_id")
        return doc

    async def delete(self, key: str) -> None:
        await self.media.delete(key)
        await repo.delete(self.db, key=key)

    async def playback_url(self, key: str, ttl_s: int | None = None) -> tuple[str, int] | None:
        if await self.meta(key) is None:
            return None
        ttl = min(ttl_s or self.settings.url_ttl_s, self.settings.url_ttl_s)
        return await self.media.playback_url(key, ttl=timedelta(seconds=ttl)), ttl

    async def exists(self, key: str) -> bool:
        try:
            await self.media.stat(key)
        except ObjectNotFound:
            return False
        return True

    async def forget_appeal(self, appeal_id: str) -> int:
        """Delete the videos of an appeal and of its answer (their storage period is over).

        The object goes before its record, so a crash in between leaves a record the
        redelivered event finds again; a second delivery finds nothing and deletes nothing.
        """
        keys: list[str] = []
        for prefix in (f"appeals/{appeal_id}/", f"answers/{appeal_id}/"):
            keys += await repo.keys_under(self.db, prefix=prefix)
        for key in keys:
            await self.delete(key)
        if keys:
            log.info("videos destroyed", extra={"appeal_id": appeal_id, "count": len(keys)})
        return len(keys)

    async def remove_stale_uploads(self) -> int:
        before = self.clock() - timedelta(seconds=self.settings.stale_upload_s)
        keys = await repo.stale_uploads(self.db, before=before)
        for key in keys:
            await self.delete(key)
        return len(keys)
