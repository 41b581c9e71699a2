"""The workbench's pages: search, a case's subject, notes and draft, topics and answer templates."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from .. import workbench
from ..models import Account
from ..search import QueryInvalid
from .base import PREFIX, PageError, Web, client_ip

MAX_CURSOR = 400


def build_router(web: Web) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["dashboard"], route_class=web.route_class())
    dash = web.dashboard

    async def case_of(request: Request, appeal_id: str) -> tuple[Account, dict[str, Any]]:
        _, account = await web.account(request)
        case = await dash.case_for(account, appeal_id)
        if case is None:
            raise PageError(404, "case_not_found")
        return account, case

    async def staff(request: Request, *roles: str) -> tuple[Any, Account]:
        session, account = await web.account(request)
        if account.role not in roles:
            raise PageError(404, "not_found")
        return session, account

    def refused(exc: workbench.Rejected) -> PageError:
        return PageError(404 if exc.code == "not_found" else 422, exc.code, field=exc.field)

    @router.get("/search")
    async def search(request: Request) -> Response:
        session, account = await staff(request, "official", "controller")
        text = request.query_params.get("q", "")
        after = request.query_params.get("after") or None
        if after is not None and len(after) > MAX_CURSOR:
            raise PageError(422, "invalid", field="after")
        result, problem = None, None
        if text.strip():
            try:
                result = await workbench.search(dash, account, text, after=after)
            except QueryInvalid as exc:
                problem = exc.code
        all_topics = await workbench.topics(dash)
        return web.render(
            request,
            "search.html",
            session=session,
            status=422 if problem else 200,
            q=text,
            result=result,
            problem=problem,
            cases=result.rows if result else [],
            show_official=account.sees_all_cases,
            names=await official_names(account),
            topic_names={x["_id"]: x for x in all_topics},
            since=None,
        )

    async def official_names(account: Account) -> dict[str, Any]:
        if not account.sees_all_cases:
            return {}
        try:
            return {o["id"]: o["full_name"] for o in await dash.routing.officials()}
        except Exception:
            return {}

    @router.post("/cases/{appeal_id}/subject")
    async def subject(appeal_id: str, request: Request) -> Response:
        form = await web.form(request, await web.session(request))
        account, case = await case_of(request, appeal_id)
        if not (account.may_act_on(case)):
            raise PageError(404, "case_not_found")
        try:
            await workbench.set_subject(
                dash,
                account,
                case,
                topic=str(form.get("topic") or "").strip(),
                summary=str(form.get("summary") or ""),
                ip=client_ip(request),
            )
        except workbench.Rejected as exc:
            raise refused(exc) from exc
        return RedirectResponse(f"{PREFIX}/cases/{appeal_id}", status_code=303)

    @router.post("/cases/{appeal_id}/notes")
    async def note(appeal_id: str, request: Request) -> Response:
        form = await web.form(request, await web.session(request))
        account, case = await case_of(request, appeal_id)
        try:
            await workbench.add_note(
                dash, account, case, str(form.get("note") or ""), ip=client_ip(request)
            )
        except workbench.Rejected as exc:
            raise refused(exc) from exc
        return RedirectResponse(f"{PREFIX}/cases/{appeal_id}#timeline", status_code=303)

    @router.put("/cases/{appeal_id}/draft.json")
    async def draft(appeal_id: str, request: Request) -> Response:
        """The answer as typed so far, saved while it is typed (the page's script sends it)."""
        session, _ = await web.account(request)
        web.check_csrf_header(request, session)
        account, case = await case_of(request, appeal_id)
        if not dash.may_answer(account, case):
            raise PageError(404, "case_not_found")
        try:
            body = await request.json()
        except ValueError as exc:
            raise PageError(422, "invalid", field="text") from exc
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str):
            raise PageError(422, "invalid", field="text")
        try:
            await workbench.save_draft(dash, account, case, text)
        except workbench.Rejected as exc:
            raise refused(exc) from exc
        return JSONResponse({"saved": True}, headers={"Cache-Control": "no-store"})

    # Topics (admin) and answer templates (control office and admin)

    @router.get("/admin/topics")
    async def topics_page(request: Request) -> Response:
        session, _ = await staff(request, "admin")
        return web.render(
            request, "admin_topics.html", session=session, topics=await workbench.topics(dash)
        )

    @router.post("/admin/topics")
    async def save_topic(request: Request) -> Response:
        form = await web.form(request, await web.session(request))
        _, account = await staff(request, "admin")
        try:
            await workbench.save_topic(
                dash,
                account,
                topic_id=str(form.get("id") or "").strip(),
                kk=str(form.get("kk") or ""),
                ru=str(form.get("ru") or ""),
                active=form.get("active") != "0",
                ip=client_ip(request),
            )
        except workbench.Rejected as exc:
            raise refused(exc) from exc
        return RedirectResponse(f"{PREFIX}/admin/topics", status_code=303)

    @router.get("/templates")
    async def templates_page(request: Request) -> Response:
        session, _ = await staff(request, "controller", "admin")
        from .. import repository as repo

        try:
            officials = await dash.routing.officials()
        except Exception:
            officials = []
        departments = {
            str(o["department"]["ru"]): o["department"]
            for o in officials
            if isinstance(o.get("department"), dict) and o["department"].get("ru")
        }
        return web.render(
            request,
            "templates.html",
            session=session,
            templates=await repo.list_templates(dash.db),
            departments=dict(sorted(departments.items())),
            placeholders=workbench.PLACEHOLDERS,
        )

    @router.post("/templates")
    async def save_template(request: Request) -> Response:
        form = await web.form(request, await web.session(request))
        _, account = await staff(request, "controller", "admin")
        try:
            if form.get("delete"):
                await workbench.delete_template(
                    dash,
                    account,
                    template_id=str(form.get("id") or ""),
                    ip=client_ip(request),
                )
            else:
                await workbench.save_template(
                    dash,
                    account,
                    template_id=str(form.get("id") or "").strip(),
                    title=str(form.get("title") or ""),
                    department=str(form.get("department") or ""),
                    kk=str(form.get("kk") or ""),
                    ru=str(form.get("ru") or ""),
                    ip=client_ip(request),
                )
        except workbench.Rejected as exc:
            raise refused(exc) from exc
        return RedirectResponse(f"{PREFIX}/templates", status_code=303)

    return router
