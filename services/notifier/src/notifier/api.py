"""notifier's HTTP API: the notifications of an appeal, for the dashboard's case timeline."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from dialog_platform.internal import RequireInternal

from .service import Notifier


def build_router(notifier: Notifier) -> APIRouter:
    router = APIRouter(prefix="/api/v1/notifications", tags=["notifier"])

    @router.get("")
    async def for_appeal(appeal_id: str, _: RequireInternal) -> dict[str, list[dict[str, Any]]]:
        return {"notifications": await notifier.notifications(appeal_id)}

    return router
