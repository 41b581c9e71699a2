"""The API other services call: the answers of an appeal (kiosk-gateway's citizen look-up) and
the reference desk's snapshot the booth's gateway fills its copy from."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from dialog_platform.errors import ApiError
from dialog_platform.internal import RequireInternal

from . import reference
from .service import Dashboard


def build_router(dash: Dashboard) -> APIRouter:
    router = APIRouter(prefix="/dashboard/internal", tags=["dashboard"])

    @router.get("/answers/{appeal_id}")
    async def answers(appeal_id: str, _: RequireInternal) -> dict[str, list[dict[str, Any]]]:
        """Oldest first; a correction names the answer it replaces; the last one is current."""
        found = await dash.answers(appeal_id)
        if not found:
            raise ApiError(404, "not_found")
        return {"answers": [{k: v for k, v in a.items() if k != "by"} for a in found]}

    @router.get("/reference/snapshot")
    async def snapshot(_: RequireInternal) -> dict[str, list[dict[str, Any]]]:
        """Every entry as its latest event: the published ones with their text, the others
        without, so a copy that missed a withdrawal drops the entry too."""
        return {"entries": await reference.snapshot(dash)}

    return router
