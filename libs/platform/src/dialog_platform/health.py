"""`/livez`: the process is up. `/readyz`: every running component's dependencies answer."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from .component import Check

CHECK_TIMEOUT_S = 3.0


async def _run(check: Check) -> bool:
    try:
        return bool(await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT_S))
    except Exception:
        return False


def health_router(checks: Mapping[str, Check], components: list[str]) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/livez")
    async def livez() -> dict[str, object]:
        return {"status": "ok", "components": components}

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        names = list(checks)
        results = await asyncio.gather(*(_run(checks[n]) for n in names))
        status = dict(zip(names, results, strict=True))
        ready = all(results)
        return JSONResponse(
            {
                "status": "ready" if ready else "not ready",
                "checks": status,
                "components": components,
            },
            status_code=200 if ready else 503,
        )

    return router
