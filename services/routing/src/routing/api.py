"""routing's HTTP API: the officials directory, and cases for other services."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from dialog_platform.errors import ApiError
from dialog_platform.internal import RequireInternal

from .service import Routing


def build_router(routing: Routing) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["routing"])

    @router.get("/directory/officials")
    async def officials(active: bool = True) -> dict[str, list[dict[str, Any]]]:
        return {"officials": await routing.officials(active_only=active)}

    @router.get("/directory/officials/{official_id}")
    async def official(official_id: str) -> dict[str, Any]:
        found = await routing.official(official_id)
        if found is None:
            raise ApiError(404, "not_found")
        return found

    @router.get("/directory/officials/{official_id}/contact")
    async def contact(official_id: str, _: RequireInternal) -> dict[str, Any]:
        found = await routing.contact(official_id)
        if found is None:
            raise ApiError(404, "not_found")
        return found

    @router.get("/directory/officials/{official_id}/photo")
    async def photo(official_id: str, request: Request) -> Response:
        found = await routing.photo(official_id)
        if not found:
            raise ApiError(404, "not_found")
        etag = f'"{found["etag"]}"'
        headers = {"ETag": etag, "Cache-Control": "public, max-age=300"}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(
            content=bytes(found["data"]), media_type=found["content_type"], headers=headers
        )

    @router.get("/cases/{appeal_id}")
    async def case(appeal_id: str, _: RequireInternal) -> dict[str, Any]:
        found = await routing.case(appeal_id)
        if found is None:
            raise ApiError(404, "not_found")
        return found

    return router
