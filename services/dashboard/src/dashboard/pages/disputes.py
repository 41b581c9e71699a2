"""The list of disputed answers and the two decisions on one: confirm it, or ask for a new one."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from .. import disputes
from ..models import MAX_REASON_CHARS
from .base import PREFIX, PageError, Web, client_ip

PATH = f"{PREFIX}/disputed"


def build_router(web: Web) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["dashboard"], route_class=web.route_class())
    dash = web.dashboard

    @router.get("/disputed")
    async def disputed(request: Request) -> Response:
        session, account = await web.account(request)
        if not disputes.scope(account)[0]:
            raise PageError(404, "not_found")
        officials = await dash.routing.officials(active_only=False)
        return web.render(
            request,
            "disputed.html",
            session=session,
            rows=await disputes.disputed(dash, account),
            names={o["id"]: o["full_name"] for o in officials},
            done=request.query_params.get("done", ""),
        )

    def decision_route(path: str, decision: disputes.Decision) -> None:
        @router.post(f"/disputed/{{appeal_id}}/{path}", name=f"disputed-{path}")
        async def act(appeal_id: str, request: Request) -> Response:
            form = await web.form(request, await web.session(request))
            _, account = await web.account(request)
            # Only a dispute in this account's own list: anything else does not exist for it.
            rows = {r["appeal_id"]: r for r in await disputes.disputed(dash, account)}
            if appeal_id not in rows:
                raise PageError(404, "case_not_found")
            note = str(form.get("note") or "").strip()
            if len(note) > MAX_REASON_CHARS or (decision == "confirm" and not note):
                raise PageError(422, "dispute_note_required", field="note")
            await disputes.decide(
                dash, account, rows[appeal_id], decision=decision, note=note,
                ip=client_ip(request),
            )  # fmt: skip
            return RedirectResponse(f"{PATH}?done={path}", status_code=303)

    decision_route("confirm", "confirm")
    decision_route("follow-up", "follow_up")
    return router
