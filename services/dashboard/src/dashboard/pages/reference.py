"""The reference desk's pages: the entries (control office and admin) and an official's "make a
reference entry of this answer"."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from dialog_contracts import richtext

from .. import reference, workbench
from ..models import Account
from .base import PREFIX, PageError, Web, client_ip


def build_router(web: Web) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["dashboard"], route_class=web.route_class())
    dash = web.dashboard

    async def manager(request: Request) -> tuple[Any, Account]:
        session, account = await web.account(request)
        if account.role not in reference.MANAGERS:
            raise PageError(404, "not_found")
        return session, account

    def refused(exc: workbench.Rejected) -> PageError:
        return PageError(404 if exc.code == "not_found" else 422, exc.code, field=exc.field)

    async def form_page(
        request: Request,
        session: Any,
        entry: dict[str, Any] | None,
        *,
        values: dict[str, Any] | None = None,
        problem: workbench.Rejected | None = None,
    ) -> Response:
        """The entry's form; after a refused change, with what was typed and why it was refused
        (nothing of it was saved)."""
        try:
            officials = await dash.routing.officials(active_only=False)
        except Exception:  # the form still works with ids typed by hand
            officials = []
        return web.render(
            request,
            "reference_entry.html",
            session=session,
            status=422 if problem else 200,
            entry=entry,
            values={**(entry or {}), **(values or {})},
            error={"code": problem.code, "field": problem.field} if problem else None,
            topics=await workbench.topics(dash),
            officials=officials,
            history=await reference.history(dash, entry["_id"]) if entry else [],
            to_html=richtext.to_html,
        )

    @router.get("/reference")
    async def entries(request: Request) -> Response:
        session, _ = await manager(request)
        return web.render(
            request,
            "reference_list.html",
            session=session,
            entries=await reference.entries(dash),
            topic_names={x["_id"]: x for x in await workbench.topics(dash)},
        )

    @router.get("/reference/new")
    async def new(request: Request) -> Response:
        session, _ = await manager(request)
        return await form_page(request, session, None)

    @router.post("/reference/new")
    async def create(request: Request) -> Response:
        form = await web.form(request, await web.session(request))
        session, account = await manager(request)
        fields = reference.entry_from_form(form)
        try:
            doc = await reference.save(
                dash,
                account,
                entry_id=str(form.get("id") or ""),
                fields=fields,
                ip=client_ip(request),
            )
        except workbench.Rejected as exc:
            if exc.code == "not_found":
                raise refused(exc) from exc
            typed = {**fields, "id": str(form.get("id") or "")}
            return await form_page(request, session, None, values=typed, problem=exc)
        return RedirectResponse(f"{PREFIX}/reference/{doc['_id']}", status_code=303)

    @router.get("/reference/{entry_id}")
    async def entry(entry_id: str, request: Request) -> Response:
        session, _ = await manager(request)
        doc = await reference.get(dash, entry_id)
        if doc is None:
            raise PageError(404, "not_found")
        return await form_page(request, session, doc)

    @router.post("/reference/{entry_id}")
    async def save(entry_id: str, request: Request) -> Response:
        form = await web.form(request, await web.session(request))
        session, account = await manager(request)
        ip = client_ip(request)
        action = str(form.get("action") or "save")
        fields: dict[str, Any] = {}
        try:
            if action in ("publish", "unpublish"):
                await reference.set_state(
                    dash, account, entry_id=entry_id, published=action == "publish", ip=ip
                )
            else:
                try:
                    version = int(str(form.get("version") or ""))
                except ValueError as exc:
                    raise PageError(422, "invalid", field="version") from exc
                fields = reference.entry_from_form(form)
                await reference.save(
                    dash, account, entry_id=entry_id, fields=fields, version=version, ip=ip
                )
        except workbench.Rejected as exc:
            doc = await reference.get(dash, entry_id)
            if exc.code == "not_found" or doc is None:
                raise refused(exc) from exc
            return await form_page(request, session, doc, values=fields, problem=exc)
        return RedirectResponse(f"{PREFIX}/reference/{entry_id}", status_code=303)

    @router.post("/cases/{appeal_id}/reference-draft")
    async def from_answer(appeal_id: str, request: Request) -> Response:
        await web.form(request, await web.session(request))
        _, account = await web.account(request)
        case = await dash.case_for(account, appeal_id)
        if case is None or not dash.may_answer(account, case):
            raise PageError(404, "case_not_found")
        answers = await dash.answers(appeal_id)
        if not answers:
            raise PageError(409, "reference_no_answer")
        await reference.draft_from_answer(dash, account, case, answers[-1], ip=client_ip(request))
        return RedirectResponse(
            f"{PREFIX}/cases/{appeal_id}?reference=drafted#answers", status_code=303
        )

    return router
