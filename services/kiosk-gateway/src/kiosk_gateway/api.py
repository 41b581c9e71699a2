"""The booth API (DESIGN.md §4): thin routes over `Gateway`, the kiosks' administration, and the
booth's reference desk (with the counts the dashboard pulls for its statistics)."""

# No `from __future__ import annotations`: FastAPI must see the closure-local `Kiosk`
# dependency alias when it reads the route signatures.

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dialog_platform.errors import ApiError
from dialog_platform.internal import RequireInternal

from .directory import DirectoryReplica
from .health import BoothHealth
from .help import ReferencePrints, listing_for_booth
from .kiosks import SESSION_COOKIE, SESSION_HEADER, KioskExists, KioskRegistry
from .lookup import Lookup
from .messages import error
from .models import (
    AppealCreate,
    AppealCreated,
    AppealStatus,
    AppealSubmitted,
    BoothStatus,
    Heartbeat,
    KioskCreate,
    KioskIssued,
    KioskRead,
    LookupRequest,
    LookupResult,
    OfficialRead,
    PrintRequest,
    RatingRequest,
    Recorded,
    ReprintQueued,
    VideoStored,
)
from .present import kiosk_summary
from .rating import Ratings
from .reference import ReferenceDesk, full
from .service import Gateway

_bearer = HTTPBearer(auto_error=False)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def kiosk_dependency(kiosks: KioskRegistry) -> Callable[..., Awaitable[dict[str, Any]]]:
    """The booth a request comes from: its bearer token, or its session cookie with the header."""

    async def current_kiosk(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> dict[str, Any]:
        if credentials:
            return await kiosks.authenticate(credentials.credentials)
        session = request.cookies.get(SESSION_COOKIE)
        # The cookie alone is never enough: a cross-site form could make the booth's browser
        # send it, but not this header (that would need a CORS preflight we never grant).
        if session and request.headers.get(SESSION_HEADER) == "1":
            return await kiosks.authenticate_session(session)
        return await kiosks.authenticate(None)

    return current_kiosk


def build_router(
    gateway: Gateway, kiosks: KioskRegistry, lookup: Lookup, health: BoothHealth
) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["booth"])
    ratings = Ratings(lookup, timedelta(days=lookup.settings.rating_window_days))
    Kiosk = Annotated[dict[str, Any], Depends(kiosk_dependency(kiosks))]

    async def booth_or_address(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> str:
        """Whose budget a public look-up spends: a booth's own (many booths of one center share
        an address), else the client address's. The session cookie alone is enough here: it
        only chooses a budget and grants nothing."""
        session = request.cookies.get(SESSION_COOKIE)
        try:
            if credentials:
                kiosk = await kiosks.authenticate(credentials.credentials)
            elif session:
                kiosk = await kiosks.authenticate_session(session)
            else:
                return _client(request)
        except ApiError:
            return _client(request)
        return f"kiosk:{kiosk['_id']}"

    Client = Annotated[str, Depends(booth_or_address)]

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
        await health.require_in_service(kiosk)
        return await gateway.create_appeal(kiosk, body)

    @router.post("/booth/heartbeat")
    async def heartbeat(kiosk: Kiosk, body: Heartbeat) -> BoothStatus:
        return await health.heartbeat(kiosk, body)

    @router.get("/booth/status")
    async def booth_status(kiosk: Kiosk) -> BoothStatus:
        return await health.status(kiosk["_id"])

    @router.get("/appeals/{appeal_id}")
    async def appeal_status(kiosk: Kiosk, appeal_id: str) -> AppealStatus:
        return await gateway.appeal_status(kiosk, appeal_id)

    @router.delete("/appeals/{appeal_id}", status_code=204)
    async def discard(kiosk: Kiosk, appeal_id: str) -> Response:
        await gateway.discard(kiosk, appeal_id)
        return Response(status_code=204)

    @router.post("/appeals/reprint", status_code=202)
    async def reprint(kiosk: Kiosk, body: LookupRequest) -> ReprintQueued:
        return await lookup.reprint(kiosk, body, client=f"kiosk:{kiosk['_id']}")

    @router.put(
        "/appeals/{appeal_id}/video",
        status_code=201,
        max_body_size=gateway.settings.max_video_bytes,
    )
    async def upload_video(kiosk: Kiosk, appeal_id: str, request: Request) -> VideoStored:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in ("video/webm", "application/octet-stream", ""):
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
    async def answer_lookup(body: LookupRequest, client: Client) -> LookupResult:
        return await lookup.lookup(body, client=client)

    @router.post("/answers/rating")
    async def rate_answer(body: RatingRequest, client: Client) -> LookupResult:
        """Did the answer help? The look-up's number and code, limits and refusals."""
        return await ratings.rate(body, client=client)

    return router


def build_admin_router(kiosks: KioskRegistry) -> APIRouter:
    """Kiosk administration for the dashboard's admin page (the same as `dialog kiosk`)."""
    router = APIRouter(prefix="/api/v1/kiosks", tags=["kiosk admin"])

    @router.get("")
    async def list_kiosks(_: RequireInternal) -> dict[str, list[KioskRead]]:
        return {"kiosks": [KioskRead(**kiosk_summary(k)) for k in await kiosks.list()]}

    @router.post("", status_code=201)
    async def add_kiosk(_: RequireInternal, body: KioskCreate) -> KioskIssued:
        try:
            token = await kiosks.register(body.id, body.location, center=body.center)
        except KioskExists:
            raise error(409, "kiosk_exists", field="id") from None
        return KioskIssued(id=body.id, token=token)

    @router.post("/{kiosk_id}/revoke")
    async def revoke_kiosk(_: RequireInternal, kiosk_id: str) -> KioskRead:
        if not await kiosks.revoke(kiosk_id):
            raise error(404, "kiosk_not_found")
        kiosk = await kiosks.get(kiosk_id)
        assert kiosk is not None
        return KioskRead(**kiosk_summary(kiosk))

    return router


def build_reference_router(
    desk: ReferenceDesk,
    kiosks: KioskRegistry,
    directory: DirectoryReplica,
    prints: ReferencePrints,
) -> APIRouter:
    """The reference desk for the booth, and its counts for the dashboard's statistics."""
    router = APIRouter()
    Kiosk = Annotated[dict[str, Any], Depends(kiosk_dependency(kiosks))]

    @router.get("/api/v1/reference", tags=["booth"])
    async def booth_listing(
        kiosk: Kiosk, q: str = "", topic: str = "", official: str = ""
    ) -> dict[str, Any]:
        return await listing_for_booth(desk, directory, q=q, topic=topic, official=official)

    @router.get("/api/v1/reference/{entry_id}", tags=["booth"])
    async def booth_entry(kiosk: Kiosk, entry_id: str) -> dict[str, Any]:
        doc = await desk.entry(entry_id)
        if doc is None:
            raise error(404, "reference_not_found")
        await desk.count_view(entry_id, where="booth")
        return full(doc)

    @router.post("/api/v1/reference/{entry_id}/print", status_code=202, tags=["booth"])
    async def print_entry(kiosk: Kiosk, entry_id: str, body: PrintRequest) -> dict[str, str]:
        """The entry on the booth's receipt printer, through its print queue like a receipt."""
        await prints.request(kiosk, entry_id, body.language)
        return {"status": "queued"}

    @router.post("/api/v1/reference/recorded", status_code=204, tags=["booth"])
    async def recorded(kiosk: Kiosk, body: Recorded) -> None:
        """The entries a citizen opened before recording an appeal all the same."""
        await desk.count_recorded(body.entries)

    @router.get("/api/v1/reference-stats", tags=["internal"])
    async def stats(_: RequireInternal) -> dict[str, Any]:
        return await desk.stats()

    return router
