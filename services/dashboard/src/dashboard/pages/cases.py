"""The official's inbox and the case page: watch, reveal the phone, answer, forward, extend."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from .. import workbench
from ..models import MAX_ANSWER_CHARS, MAX_REASON_CHARS, OFFICIAL_ID, Account
from ..service import AnswerRejected, awaits_new_answer
from .base import PREFIX, PageError, Web, client_ip
from .filters import read_filters

ANSWER_ID = re.compile(r"^[A-Za-z0-9_-]{1,120}$")
VIDEO_KEY = re.compile(r"^answers/[A-Za-z0-9_-]{1,100}/[0-9a-f]{32}\.webm$")
# The answer's own limit decides its form's: up to 4 UTF-8 bytes a character, each byte up to 3
# once percent-encoded, and room for the other fields.
ANSWER_FORM_BYTES = MAX_ANSWER_CHARS * 4 * 3 + 16 * 1024


def _capped(chunks: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    async def gen() -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in chunks:
            seen += len(chunk)
            if seen > limit:
                raise PageError(413, "video_too_large")
            yield chunk

    return gen()


def build_router(web: Web) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["dashboard"], route_class=web.route_class())
    dash = web.dashboard

    async def case_of(request: Request, appeal_id: str) -> tuple[Any, Account, dict[str, Any]]:
        session, account = await web.account(request)
        case = await dash.case_for(account, appeal_id)
        if case is None:
            # Another official's case answers exactly like a case that does not exist.
            raise PageError(404, "case_not_found")
        return session, account, case

    async def inbox_cases(request: Request, account: Account) -> tuple[Any, dict[str, Any]]:
        if account.official_of is None:
            raise PageError(404, "not_found")
        filters = read_filters(request, allow_official=False)
        query = filters.query(official_id=account.official_id, limit=50)
        return filters, await dash.routing.cases(query)

    @router.get("/inbox")
    async def inbox(request: Request) -> Response:
        session, account = await web.account(request)
        if account.official_of is None:
            return RedirectResponse(f"{PREFIX}/", status_code=303)
        filters, found = await inbox_cases(request, account)
        since = await workbench.visit(dash, account)
        return web.render(
            request,
            "inbox.html",
            session=session,
            filters=filters,
            next=found.get("next"),
            poll_s=web.settings.inbox_poll_s,
            **await workbench.list_context(dash, found["cases"], since=since),
        )

    @router.get("/inbox.json")
    async def inbox_json(request: Request) -> Response:
        """What the open inbox polls: the rows as rendered, so new cases appear without reload."""
        session, account = await web.account(request)
        _, found = await inbox_cases(request, account)
        since = await workbench.visit_since(dash, account)
        rows = web.render(
            request,
            "_case_rows.html",
            session=session,
            **await workbench.list_context(dash, found["cases"], since=since),
        )
        return JSONResponse(
            {
                "ids": [c["appeal_id"] for c in found["cases"]],
                "html": bytes(rows.body).decode("utf-8"),
                "next": found.get("next"),
            },
            headers={"Cache-Control": "no-store"},
        )

    async def case_page(
        request: Request,
        appeal_id: str,
        *,
        reveal: bool = False,
        reveal_iin: bool = False,
        status: int = 200,
        error: str | None = None,
    ) -> Response:
        session, account, case = await case_of(request, appeal_id)
        ip = client_ip(request)
        if request.method == "GET":
            case = await dash.mark_opened(account, case)
        video = case.get("video") or {}
        video_url = None
        if video.get("key"):
            video_url = await dash.playback_url(account, case, video["key"], what="appeal", ip=ip)
        answers = await dash.answers(appeal_id)
        for a in answers:
            a["video_url"] = (
                await dash.playback_url(account, case, a["video_key"], what="answer", ip=ip)
                if a["video_key"]
                else None
            )
        phone = await dash.reveal_phone(account, case, ip=ip) if reveal else None
        timeline, notifier_ok = await dash.timeline(case, answers)
        officials: list[dict[str, Any]] = []
        # An answered case is closed: nothing left to forward.
        if not answers and (account.may_act_on(case)):
            try:
                officials = [
                    o
                    for o in await dash.routing.officials(active_only=True)
                    if o["id"] != case.get("official_id")
                ]
            except Exception:
                officials = []
        return web.render(
            request,
            "case.html",
            session=session,
            status=status,
            case=case,
            video_url=video_url,
            answers=answers,
            # After a follow-up the form asks for a new answer, not a correction of the last.
            current=answers[-1] if answers and not awaits_new_answer(case, answers) else None,
            phone=phone,
            timeline=timeline,
            notifier_ok=notifier_ok,
            officials=officials,
            may_answer=dash.may_answer(account, case),
            may_forward=bool(officials),
            may_extend=account.sees_all_cases,
            error=error,
            max_video_bytes=web.settings.max_answer_video_bytes,
            **await workbench.case_context(dash, account, case, show_iin=reveal_iin, ip=ip),
        )

    @router.get("/cases/{appeal_id}")
    async def case(appeal_id: str, request: Request) -> Response:
        return await case_page(request, appeal_id)

    @router.post("/cases/{appeal_id}/phone")
    async def reveal(appeal_id: str, request: Request) -> Response:
        await web.form(request, await web.session(request))
        return await case_page(request, appeal_id, reveal=True)

    @router.post("/cases/{appeal_id}/iin")
    async def reveal_iin(appeal_id: str, request: Request) -> Response:
        await web.form(request, await web.session(request))
        return await case_page(request, appeal_id, reveal_iin=True)

    @router.post("/cases/{appeal_id}/video", max_body_size=web.settings.max_answer_video_bytes)
    async def upload_video(appeal_id: str, request: Request) -> Response:
        """A video answer, streamed through to media-store as it arrives (raw body, not a form)."""
        session, account, case = await case_of(request, appeal_id)
        web.check_csrf_header(request, session)
        if not dash.may_answer(account, case):
            raise PageError(404, "case_not_found")
        answers = await dash.answers(appeal_id)
        first = not answers or awaits_new_answer(case, answers)
        if not first and request.query_params.get("correction") != "1":
            raise PageError(409, "already_answered")
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        if content_type not in ("video/webm", "application/octet-stream"):
            raise PageError(415, "video_not_webm")
        limit = web.settings.max_answer_video_bytes
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            raise PageError(413, "video_too_large")
        stored = await dash.store_answer_video(account, case, _capped(request.stream(), limit))
        return JSONResponse(stored, status_code=201)

    @router.post("/cases/{appeal_id}/answer", max_body_size=ANSWER_FORM_BYTES)
    async def answer(appeal_id: str, request: Request) -> Response:
        form = await web.form(request, await web.session(request))
        _, account, case = await case_of(request, appeal_id)
        if not dash.may_answer(account, case):
            raise PageError(404, "case_not_found")
        video_key = str(form.get("video_key") or "").strip() or None
        corrects = str(form.get("corrects") or "").strip() or None
        if video_key and not VIDEO_KEY.fullmatch(video_key):
            raise PageError(422, "answer_video_unknown", field="video_key")
        if corrects and not ANSWER_ID.fullmatch(corrects):
            raise PageError(422, "answer_outdated", field="corrects")
        try:
            await dash.post_answer(
                account,
                case,
                text=str(form.get("text") or ""),
                video_key=video_key,
                corrects=corrects,
                ip=client_ip(request),
            )
        except AnswerRejected as exc:
            if exc.status == 422 and exc.field == "text":
                return await case_page(request, appeal_id, status=422, error=exc.code)
            raise PageError(exc.status, exc.code, field=exc.field) from exc
        return RedirectResponse(f"{PREFIX}/cases/{appeal_id}", status_code=303)

    @router.post("/cases/{appeal_id}/forward")
    async def forward(appeal_id: str, request: Request) -> Response:
        form = await web.form(request, await web.session(request))
        _, account, case = await case_of(request, appeal_id)
        if not (account.may_act_on(case)):
            raise PageError(404, "case_not_found")
        to = str(form.get("to_official_id") or "").strip()
        reason = str(form.get("reason") or "").strip()
        if not OFFICIAL_ID.fullmatch(to):
            raise PageError(422, "forward_official_required", field="to_official_id")
        if not reason or len(reason) > MAX_REASON_CHARS:
            raise PageError(422, "reason_required", field="reason")
        await dash.forward(account, case, to_official_id=to, reason=reason, ip=client_ip(request))
        # The official who forwarded their own case no longer sees it.
        target = f"{PREFIX}/cases/{appeal_id}" if account.sees_all_cases else f"{PREFIX}/"
        return RedirectResponse(target, status_code=303)

    @router.post("/cases/{appeal_id}/extend")
    async def extend(appeal_id: str, request: Request) -> Response:
        form = await web.form(request, await web.session(request))
        _, account, case = await case_of(request, appeal_id)
        if not account.sees_all_cases:
            raise PageError(404, "case_not_found")
        body: dict[str, Any] = {}
        for name in ("legal_deadline", "control_date"):
            value = str(form.get(name) or "").strip()
            if not value:
                continue
            try:
                body[name] = date.fromisoformat(value).isoformat()
            except ValueError as exc:
                raise PageError(422, "date_invalid", field=name) from exc
        if "legal_deadline" not in body:
            raise PageError(422, "deadline_required", field="legal_deadline")
        reason = str(form.get("reason") or "").strip()
        if not reason or len(reason) > MAX_REASON_CHARS:
            raise PageError(422, "reason_required", field="reason")
        body["reason"] = reason
        await dash.extend(account, case, body=body, ip=client_ip(request))
        return RedirectResponse(f"{PREFIX}/cases/{appeal_id}", status_code=303)

    @router.get("/cases/{appeal_id}/video-url.json")
    async def video_url(appeal_id: str, request: Request) -> Response:
        """A fresh playback URL when the page's one has expired (a new view in the audit log)."""
        _, account, case = await case_of(request, appeal_id)
        key = (case.get("video") or {}).get("key")
        if not key:
            raise PageError(404, "not_found")
        url = await dash.playback_url(account, case, key, what="appeal", ip=client_ip(request))
        if url is None:
            raise PageError(404, "not_found")
        return JSONResponse({"url": url}, headers={"Cache-Control": "no-store"})

    return router
