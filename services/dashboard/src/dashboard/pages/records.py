"""The control office's records actions on a case: legal hold and lifting it, the citizen's copy."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse

from .. import records
from ..models import MAX_REASON_CHARS, Account
from .base import PREFIX, PageError, Web, client_ip


def build_router(web: Web) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["dashboard"], route_class=web.route_class())
    dash = web.dashboard

    async def controller_case(
        request: Request, appeal_id: str
    ) -> tuple[Account, dict[str, object]]:
        _, account = await web.account(request)
        case = await dash.case_for(account, appeal_id)
        # The control office's duty; to anyone else the page does not exist.
        if case is None or not account.sees_all_cases:
            raise PageError(404, "case_not_found")
        return account, case

    async def reason_of(request: Request) -> str:
        form = await web.form(request, await web.session(request))
        reason = str(form.get("reason") or "").strip()
        if not reason or len(reason) > MAX_REASON_CHARS:
            raise PageError(422, "reason_required", field="reason")
        return reason

    def hold_route(path: str, *, lift: bool) -> None:
        @router.post(f"/cases/{{appeal_id}}/{path}", name=path)
        async def act(appeal_id: str, request: Request) -> Response:
            reason = await reason_of(request)
            account, case = await controller_case(request, appeal_id)
            ip = client_ip(request)
            await records.hold(dash, account, case, reason=reason, ip=ip, lift=lift)
            return RedirectResponse(f"{PREFIX}/cases/{appeal_id}", status_code=303)

    hold_route("hold", lift=False)
    hold_route("release", lift=True)

    @router.get("/cases/{appeal_id}/copy.zip")
    async def copy(appeal_id: str, request: Request) -> Response:
        account, case = await controller_case(request, appeal_id)
        name, body = await records.export(dash, account, case, ip=client_ip(request))
        return StreamingResponse(
            body,
            media_type="application/zip",
            headers={
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
                "Cache-Control": "no-store",
            },
        )

    return router
