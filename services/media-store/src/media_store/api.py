"""media-store's HTTP API: internal object writes, and signed playback with range requests."""

from __future__ import annotations

import re
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse
from starlette.requests import ClientDisconnect

from dialog_platform.errors import ApiError
from dialog_platform.internal import RequireInternal
from dialog_platform.media import InvalidKey, MediaStore, ObjectNotFound, check_key
from dialog_platform.media.signing import verify_playback
from dialog_platform.settings import CommonSettings

from .service import MediaService, UploadRejected

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")

MESSAGES = {
    "video_too_large": ("Бейне тым үлкен", "Видео слишком большое"),
    "video_not_webm": ("Бұл бейне емес", "Это не видео"),
    "video_too_long": ("Бейне тым ұзақ", "Видео слишком длинное"),
    "video_interrupted": ("Бейне толық жіберілмеді", "Видео отправлено не полностью"),
    "invalid_key": ("Қате кілт", "Неверный ключ"),
    "range_not_satisfiable": ("Қате ауқым", "Неверный диапазон"),
    "link_expired": ("Сілтеменің мерзімі өтті", "Срок действия ссылки истёк"),
}


def _error(status: int, code: str, headers: dict[str, str] | None = None) -> ApiError:
    kk, ru = MESSAGES[code]
    return ApiError(status, code, kk, ru, headers=headers)


def valid_key(key: str) -> str:
    """Every route's key, checked once by the rules every adapter shares: 422, never a 500."""
    try:
        return check_key(key)
    except InvalidKey as exc:
        raise _error(422, "invalid_key") from exc


Key = Annotated[str, Depends(valid_key)]


def build_router(service: MediaService, media: MediaStore, settings: CommonSettings) -> APIRouter:
    router = APIRouter(prefix="/api/v1/media", tags=["media"])

    @router.get("/objects/{key:path}/meta")
    async def meta(_: RequireInternal, key: Key) -> dict[str, Any]:
        found = await service.meta(key)
        if found is None:
            raise ApiError(404, "not_found")
        return found

    @router.get("/objects/{key:path}/url")
    async def url(_: RequireInternal, key: Key, ttl_s: int | None = None) -> dict[str, Any]:
        found = await service.playback_url(key, ttl_s)
        if found is None:
            raise ApiError(404, "not_found")
        link, ttl = found
        return {"url": link, "expires_in_s": ttl}

    @router.put("/objects/{key:path}", status_code=201, max_body_size=service.settings.max_bytes)
    async def put(_: RequireInternal, key: Key, request: Request) -> dict[str, Any]:
        body = request.stream()
        try:
            return await service.store_video(key, body)
        except UploadRejected as exc:
            if exc.status != 413:
                # Read (and drop) the rest so the sender gets this answer instead of a reset
                # connection; the gateway caps what it sends at the same byte limit.
                drained = 0
                try:
                    async for chunk in body:
                        drained += len(chunk)
                        if drained > service.settings.max_bytes:
                            break
                except ClientDisconnect:
                    pass
            raise _error(exc.status, exc.code) from exc
        except ClientDisconnect as exc:
            raise _error(400, "video_interrupted") from exc

    @router.delete("/objects/{key:path}", status_code=204)
    async def delete(_: RequireInternal, key: Key) -> Response:
        await service.delete(key)
        return Response(status_code=204)

    @router.get("/play/{key:path}")
    async def play(key: Key, expires: int, sig: str, request: Request) -> Response:
        secret = settings.secret_key.get_secret_value()
        if not verify_playback(secret, key, expires, sig, int(time.time())):
            raise _error(403, "link_expired")
        try:
            info = await media.stat(key)
        except ObjectNotFound as exc:
            raise ApiError(404, "not_found") from exc
        headers = {"Accept-Ranges": "bytes", "Cache-Control": "private, max-age=60"}
        range_header = request.headers.get("range")
        if not range_header:
            headers["Content-Length"] = str(info.size)
            return StreamingResponse(media.read(key), media_type=info.content_type, headers=headers)
        match = RANGE.match(range_header.strip())
        if not match or (not match.group(1) and not match.group(2)):
            raise _error(416, "range_not_satisfiable", {"Content-Range": f"bytes */{info.size}"})
        first, last = match.group(1), match.group(2)
        if first:
            start = int(first)
            end = min(int(last), info.size - 1) if last else info.size - 1
        else:  # a suffix range: the last N bytes
            start = max(info.size - int(last), 0)
            end = info.size - 1
        if start >= info.size or start > end:
            raise _error(416, "range_not_satisfiable", {"Content-Range": f"bytes */{info.size}"})
        headers["Content-Range"] = f"bytes {start}-{end}/{info.size}"
        headers["Content-Length"] = str(end - start + 1)
        return StreamingResponse(
            media.read(key, start=start, end=end),
            status_code=206,
            media_type=info.content_type,
            headers=headers,
        )

    return router
