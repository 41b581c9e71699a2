"""The booth API (DESIGN.md §4): thin routes over `Gateway`."""

# No `from __future__ import annotations`: FastAPI must see the closure-local `Kiosk`
# dependency alias when it reads the route signatures.

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dialog_platform.errors import ApiError

from .models import (
    AppealCreate,
    AppealCreated,
    AppealStatus,
    AppealSubmitted,
    LookupRequest,
    LookupResult,
    OfficialRead,
    VideoStored,
)
from .service import Gateway

_bearer = HTTPBearer(auto_error=False)


def build_router(gateway: Gateway) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["booth"])

    async def current_kiosk(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> dict[str, Any]:
        return await gateway.authenticate(credentials.credentials if credentials else None)

    Kiosk = Annotated[dict[str, Any], Depends(current_kiosk)]

    @router.get("/officials")
    async def officials(kiosk: Kiosk) -> dict[str, list[OfficialRead]]:
        return {"officials": await gateway.officials()}

    @router.get("/officials/{official_id}/photo")
    async def photo(official_id: str, request: Request) -> Response:
        # Public: an <img> cannot send the kiosk's token, and these are public officials' photos.
        found = await gateway.photo(official_id)
        if found is None:
            raise ApiError(404, "not_found")
        content, content_type, etag = found
        headers = {"Cache-Control": "public, max-age=300"}
        if etag:
            headers["ETag"] = etag
            if request.headers.get("if-none-match") == etag:
                return Response(status_code=304, headers=headers)
        return Response(content=content, media_type=content_type, headers=headers)

    @router.post("/appeals", status_code=201)
    async def create_appeal(kiosk: Kiosk, body: AppealCreate) -> AppealCreated:
        return await gateway.create_appeal(kiosk, body)

    @router.get("/appeals/{appeal_id}")
    async def appeal_status(kiosk: Kiosk, appeal_id: str) -> AppealStatus:
        return await gateway.appeal_status(kiosk, appeal_id)

    @router.put("/appeals/{appeal_id}/video", status_code=201)
    async def upload_video(kiosk: Kiosk, appeal_id: str, request: Request) -> VideoStored:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in ("video/webm", "application/octet-stream", ""):
            from .messages import error

            raise error(415, "video_not_webm")
        length = request.headers.get("content-length")
        return await gateway.upload_video(
            kiosk,
            appeal_id,
            request.stream(),
            content_length=int(length) if length and length.isdigit() else None,
        )

    @router.post("/appeals/{appeal_id}/submit", status_code=201)
    async def submit(kiosk: Kiosk, appeal_id: str, response: Response) -> AppealSubmitted:
        result, created = await gateway.submit(kiosk, appeal_id)
        if not created:
            response.status_code = 200
        return result

    @router.post("/answers/lookup")
    async def lookup(body: LookupRequest, request: Request) -> LookupResult:
        client = request.client.host if request.client else "unknown"
        return await gateway.lookup(body, client=client)

    return router
