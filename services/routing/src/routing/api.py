"""routing's HTTP API: the officials directory, cases for the dashboard and other services, and
the open figures kiosk-gateway copies for `/open`.

Public: the directory reads the booth's picker uses. Everything else is internal (the service
token): the dashboard calls it on behalf of a logged-in person named in `by`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from dialog_contracts.routing_api import (
    CASES_PATH,
    CaseAction,
    CaseDispute,
    CaseQuery,
    Confirm,
    Extend,
    FollowUp,
    Forward,
    Hold,
    Opened,
    Release,
    Subject,
)
from dialog_platform.errors import ApiError
from dialog_platform.internal import RequireInternal

from .directory import MAX_PHOTO_BYTES, Directory
from .disputes import Disputes
from .messages import error
from .models import OfficialCreate, OfficialUpdate
from .open_figures import OpenFigures
from .queries import CaseFilter
from .retention import Retention
from .service import Routing
from .stats import stats
from .timers import Timers

Doc = dict[str, Any]
DEFAULT_STATS_DAYS = 84  # twelve weeks, the chart's default span
MAX_STATS_DAYS = 3 * 366  # a bound on the work one request can ask for


async def read_limited(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it passes `limit` (never read whole first)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise error(413, "photo_too_large", field="photo")
        chunks.append(chunk)
    return b"".join(chunks)


def directory_router(directory: Directory) -> APIRouter:
    router = APIRouter(prefix="/api/v1/directory", tags=["directory"])

    @router.get("/officials")
    async def officials(active: bool = True) -> dict[str, list[Doc]]:
        return {"officials": await directory.officials(active_only=active)}

    @router.post("/officials", status_code=201)
    async def create(body: OfficialCreate, _: RequireInternal) -> Doc:
        return await directory.create(body)

    @router.get("/snapshot")
    async def snapshot(
        _: RequireInternal, audience: Literal["public", "contact"] = "public"
    ) -> dict[str, list[Doc]]:
        """The whole directory as the read models keep it (`public` for the gateway, `contact`
        for the notifier), inactive officials too, each with its version."""
        return {"officials": await directory.snapshot(audience)}

    @router.get("/officials/{official_id}")
    async def official(official_id: str) -> Doc:
        found = await directory.official(official_id)
        if found is None:
            raise error(404, "official_not_found")
        return found

    @router.patch("/officials/{official_id}")
    async def update(official_id: str, body: OfficialUpdate, _: RequireInternal) -> Doc:
        return await directory.update(official_id, body)

    @router.get("/officials/{official_id}/contact")
    async def contact(official_id: str, _: RequireInternal) -> Doc:
        found = await directory.contact(official_id)
        if found is None:
            raise error(404, "official_not_found")
        return found

    @router.get("/officials/{official_id}/photo")
    async def photo(official_id: str, request: Request) -> Response:
        found = await directory.photo(official_id)
        if not found:
            raise ApiError(404, "not_found")
        etag = f'"{found["etag"]}"'
        headers = {"ETag": etag, "Cache-Control": "public, max-age=300"}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(
            content=bytes(found["data"]), media_type=found["content_type"], headers=headers
        )

    @router.put("/officials/{official_id}/photo", max_body_size=MAX_PHOTO_BYTES)
    async def upload_photo(official_id: str, request: Request, _: RequireInternal) -> Doc:
        content_type = request.headers.get("content-type", "")
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_PHOTO_BYTES:
            raise error(413, "photo_too_large", field="photo")
        data = await read_limited(request, MAX_PHOTO_BYTES)
        return await directory.set_photo(official_id, data, content_type)

    return router


Act = Callable[[str, Any], Awaitable[Doc]]


def add_case_action(router: APIRouter, body_type: type[CaseAction], act: Act) -> None:
    """`POST /{appeal_id}/<action>`: the body checked as `body_type`, then handed to `act`."""

    async def endpoint(appeal_id: str, body: Any, _: RequireInternal) -> Doc:
        return await act(appeal_id, body)

    # The body's model is known only here; FastAPI reads it (and the API docs) from the annotation.
    endpoint.__annotations__["body"] = body_type
    name = body_type.action.replace("-", "_")
    router.add_api_route(
        f"/{{appeal_id}}/{body_type.action}", endpoint, methods=["POST"], name=name
    )


def cases_router(
    routing: Routing, timers: Timers, retention: Retention, disputes: Disputes
) -> APIRouter:
    router = APIRouter(prefix=CASES_PATH, tags=["cases"])

    @router.get("")
    async def cases(_: RequireInternal, query: Annotated[CaseQuery, Query()]) -> Doc:
        f = CaseFilter(**query.model_dump(exclude={"limit", "after"}))
        return await routing.cases(f, limit=query.limit, after=query.after)

    @router.get("/stats")
    async def case_stats(
        _: RequireInternal,
        first: Annotated[date | None, Query(alias="from")] = None,
        last: Annotated[date | None, Query(alias="to")] = None,
        department: Annotated[str | None, Query(max_length=500)] = None,
    ) -> Doc:
        last = last or routing.today()
        first = first or last - timedelta(days=DEFAULT_STATS_DAYS - 1)
        if first > last or (last - first).days > MAX_STATS_DAYS:
            raise error(422, "range_invalid", field="from")
        return await stats(routing.db, first=first, last=last, department=department)

    @router.get("/disputed")
    async def disputed(
        _: RequireInternal,
        supervisor_id: Annotated[str | None, Query(max_length=40)] = None,
    ) -> dict[str, list[Doc]]:
        """Open disputes: all of them (the control office), or a supervisor's officials'."""
        return {"cases": await disputes.open_disputes(supervisor_id=supervisor_id)}

    @router.post("/timers/run")
    async def run_timers(_: RequireInternal) -> dict[str, int]:
        return {"fired": await timers.run_due()}

    @router.get("/{appeal_id}")
    async def case(appeal_id: str, _: RequireInternal) -> Doc:
        found = await routing.case(appeal_id)
        if found is None:
            raise error(404, "case_not_found")
        return found

    @router.get("/{appeal_id}/dispute")
    async def dispute(appeal_id: str, _: RequireInternal) -> CaseDispute:
        return await disputes.citizen(appeal_id)

    actions: list[tuple[type[CaseAction], Act]] = [
        (Opened, routing.opened),
        (Forward, routing.forward),
        (Subject, routing.set_subject),
        (Extend, routing.extend),
        (Confirm, disputes.confirm),
        (FollowUp, disputes.follow_up),
        (Hold, retention.hold),
        (Release, retention.release),
    ]
    for body_type, act in actions:
        add_case_action(router, body_type, act)

    return router


def open_figures_router(figures: OpenFigures) -> APIRouter:
    router = APIRouter(prefix="/api/v1/open-figures", tags=["open figures"])

    # Internal: the public reads the gateway's copy, so no load on the public side reaches here.
    @router.get("")
    async def snapshot(_: RequireInternal) -> Doc:
        return await figures.current()

    return router
