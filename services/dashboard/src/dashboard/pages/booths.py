"""The center operator's page: the booths of their center; the admin sees every center's."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from .. import booths
from .base import PREFIX, PageError, Web


def build_router(web: Web) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["dashboard"], route_class=web.route_class())

    @router.get("/booths")
    async def booth_list(request: Request) -> Response:
        session, account = await web.account(request)
        if account.role == "operator":
            center = account.center or ""
        elif account.is_admin:
            center = None
        else:
            raise PageError(404, "not_found")
        found = await booths.booths(web.dashboard.db, center=center, now=web.dashboard.clock())
        return web.render(request, "booths.html", session=session, booths=found, center=center)

    return router
