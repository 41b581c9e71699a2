"""`/livez`: the process can go on serving. `/readyz`: every running component's dependencies
answer.

An unreachable dependency makes a process not ready, never not live: restarting it would not
bring the dependency back. `/livez` fails only for what a restart of this process does cure,
such as an embedded server it started and can no longer start again.
"""

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


async def _report(checks: Mapping[str, Check]) -> tuple[bool, dict[str, bool]]:
    names = list(checks)
    results = await asyncio.gather(*(_run(checks[n]) for n in names))
    return all(results), dict(zip(names, results, strict=True))


def health_router(
    checks: Mapping[str, Check],
    components: list[str],
    *,
    liveness: Mapping[str, Check] | None = None,
) -> APIRouter:
    router = APIRouter(tags=["health"])
    live_checks = dict(liveness or {})

    @router.get("/livez")
    async def livez() -> JSONResponse:
        live, status = await _report(live_checks)
        body: dict[str, object] = {"status": "ok" if live else "failed", "components": components}
        if status:
            body["checks"] = status
        return JSONResponse(body, status_code=200 if live else 503)

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        ready, status = await _report(checks)
        return JSONResponse(
            {
                "status": "ready" if ready else "not ready",
                "checks": status,
                "components": components,
            },
            status_code=200 if ready else 503,
        )

    return router
