"""The admin's pages: the officials directory (through routing), kiosks, accounts, audit log,
and the dead letters of the bus (seen, replayed, dropped)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData, UploadFile

from dialog_platform.bus.deadletters import DeadLetters, UnknownQueue
from dialog_platform.faults import is_transient

from .. import audit
from .. import repository as repo
from ..accounts import AccountInvalid, generate_password
from ..clients import KioskClient, Refused
from ..models import OFFICIAL_ID, ROLES, Account
from .base import PREFIX, PageError, Web, client_ip

MAX_PHOTO = 2 * 1024 * 1024
PHOTO_FORM_BYTES = MAX_PHOTO + 64 * 1024  # the photo and the form's other fields
KIOSK_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
LOCALIZED = ("full_name", "position", "competence", "department")
# Queue names as the topology builds them: namespace, consumer, event slug, kiosk, `.dlq`.
QUEUE = re.compile(r"^[a-z0-9][a-z0-9._*-]{0,199}$")
DLQ_PAGE = 50


def official_body(form: FormData) -> dict[str, Any]:
    """The directory fields of the official form, as routing's API takes them."""
    body: dict[str, Any] = {
        name: {
            "kk": str(form.get(f"{name}_kk") or "").strip(),
            "ru": str(form.get(f"{name}_ru") or "").strip(),
        }
        for name in LOCALIZED
    }
    body["supervisor_id"] = str(form.get("supervisor_id") or "").strip() or None
    # People type "+7 701 234 56 78"; routing stores E.164.
    phone = re.sub(r"[\s()-]", "", str(form.get("phone") or ""))
    body["phone"] = phone or None
    body["language"] = str(form.get("language") or "ru")
    return body


def build_router(
    web: Web, kiosks: KioskClient, dead_letters: DeadLetters | None = None
) -> APIRouter:
    router = APIRouter(prefix=f"{PREFIX}/admin", tags=["dashboard"], route_class=web.route_class())
    dash = web.dashboard

    async def admin(request: Request) -> tuple[Any, Account]:
        session, account = await web.account(request)
        if not account.is_admin:
            raise PageError(404, "not_found")
        return session, account

    async def admin_form(request: Request) -> tuple[FormData, Account]:
        form = await web.form(request, await web.session(request))
        _, account = await admin(request)
        return form, account

    async def page(request: Request, template: str, **values: Any) -> Response:
        return web.render(request, template, session=await web.session(request), **values)

    async def note(who: Account, request: Request, action: str, **detail: Any) -> None:
        await audit.record(
            dash.db,
            at=dash.clock(),
            action=action,
            login=who.login,
            account=who,
            detail=detail,
            ip=client_ip(request),
        )

    # The directory

    @router.get("/officials")
    async def officials(request: Request) -> Response:
        session, _ = await admin(request)
        found = await dash.routing.officials(active_only=False)
        return web.render(request, "admin_officials.html", session=session, officials=found)

    async def official_form(
        request: Request,
        official: dict[str, Any] | None,
        *,
        status: int = 200,
        error: dict[str, Any] | None = None,
        values: dict[str, Any] | None = None,
    ) -> Response:
        return web.render(
            request,
            "admin_official.html",
            session=await web.session(request),
            status=status,
            official=official,
            values=values or official or {},
            others=await dash.routing.officials(active_only=False),
            error=error,
        )

    async def refused_form(
        request: Request, exc: Refused, official: dict[str, Any] | None, values: dict[str, Any]
    ) -> Response:
        """The form again with routing's word on what was typed (a taken id, a bad phone)."""
        if exc.status not in (409, 422):
            raise exc
        problem = {"field": exc.field, "message": exc.message}
        return await official_form(
            request, official, status=exc.status, values=values, error=problem
        )

    @router.get("/officials/new")
    async def new_official(request: Request) -> Response:
        await admin(request)
        return await official_form(request, None)

    @router.post("/officials/new")
    async def create_official(request: Request) -> Response:
        form, account = await admin_form(request)
        body = official_body(form)
        body["id"] = str(form.get("id") or "").strip()
        body["by"] = account.login
        if not OFFICIAL_ID.fullmatch(body["id"]):
            problem = {"field": "id", "code": "official_id_invalid"}
            return await official_form(request, None, status=422, values=body, error=problem)
        try:
            created = await dash.routing.create_official(body)
        except Refused as exc:
            return await refused_form(request, exc, None, body)
        await note(account, request, "directory_create", official_id=created["id"])
        return RedirectResponse(f"{PREFIX}/admin/officials/{created['id']}", status_code=303)

    async def known_official(official_id: str) -> dict[str, Any]:
        if not OFFICIAL_ID.fullmatch(official_id):
            raise PageError(404, "not_found")
        found = await dash.routing.official(official_id)
        if found is None:
            raise PageError(404, "not_found")
        return found

    @router.get("/officials/{official_id}")
    async def edit_official(official_id: str, request: Request) -> Response:
        await admin(request)
        official = await known_official(official_id)
        contact = await dash.routing.contact(official_id) or {}
        return await official_form(request, {**official, "phone": contact.get("phone")})

    @router.post("/officials/{official_id}")
    async def update_official(official_id: str, request: Request) -> Response:
        form, account = await admin_form(request)
        official = await known_official(official_id)
        body = official_body(form)
        try:
            await dash.routing.update_official(official_id, {**body, "by": account.login})
        except Refused as exc:
            return await refused_form(request, exc, official, {**official, **body})
        await note(account, request, "directory_edit", official_id=official_id)
        return RedirectResponse(f"{PREFIX}/admin/officials/{official_id}", status_code=303)

    @router.post("/officials/{official_id}/active")
    async def set_active(official_id: str, request: Request) -> Response:
        form, account = await admin_form(request)
        await known_official(official_id)
        flag = str(form.get("active") or "")
        if flag not in ("0", "1"):
            raise PageError(422, "invalid", field="active")
        active = flag == "1"
        await dash.routing.update_official(official_id, {"active": active, "by": account.login})
        await note(account, request, "directory_edit", official_id=official_id, active=active)
        return RedirectResponse(f"{PREFIX}/admin/officials", status_code=303)

    @router.post("/officials/{official_id}/deputy")
    async def set_deputy(official_id: str, request: Request) -> Response:
        form, account = await admin_form(request)
        await known_official(official_id)
        deputy: dict[str, Any] | None = None
        if str(form.get("clear") or "") != "1":
            deputy_id = str(form.get("deputy_id") or "").strip()
            if not OFFICIAL_ID.fullmatch(deputy_id) or deputy_id == official_id:
                raise PageError(422, "deputy_invalid", field="deputy_id")
            try:
                start = date.fromisoformat(str(form.get("from") or ""))
                end = date.fromisoformat(str(form.get("to") or ""))
            except ValueError as exc:
                raise PageError(422, "date_invalid", field="from") from exc
            if end < start:
                raise PageError(422, "date_range_invalid", field="to")
            deputy = {"deputy_id": deputy_id, "from": start.isoformat(), "to": end.isoformat()}
        await dash.routing.update_official(official_id, {"deputy": deputy, "by": account.login})
        await note(account, request, "directory_edit", official_id=official_id, deputy=deputy)
        return RedirectResponse(f"{PREFIX}/admin/officials/{official_id}", status_code=303)

    @router.post("/officials/{official_id}/photo", max_body_size=PHOTO_FORM_BYTES)
    async def upload_photo(official_id: str, request: Request) -> Response:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > PHOTO_FORM_BYTES:
            raise PageError(413, "photo_too_large", field="photo")
        form, account = await admin_form(request)
        await known_official(official_id)
        photo = form.get("photo")
        if not isinstance(photo, UploadFile) or not photo.filename:
            raise PageError(422, "photo_required", field="photo")
        content_type = (photo.content_type or "").split(";")[0]
        if content_type not in ("image/png", "image/jpeg"):
            raise PageError(415, "photo_type", field="photo")
        data = await photo.read(MAX_PHOTO + 1)
        if len(data) > MAX_PHOTO:
            raise PageError(413, "photo_too_large", field="photo")
        await dash.routing.put_photo(official_id, data, content_type)
        await note(account, request, "directory_photo", official_id=official_id)
        return RedirectResponse(f"{PREFIX}/admin/officials/{official_id}", status_code=303)

    # Kiosks

    async def kiosks_page(request: Request, **values: Any) -> Response:
        found = await kiosks.kiosks()
        return await page(request, "admin_kiosks.html", kiosks=found, **values)

    @router.get("/kiosks")
    async def kiosk_list(request: Request) -> Response:
        await admin(request)
        return await kiosks_page(request)

    @router.post("/kiosks")
    async def kiosk_add(request: Request) -> Response:
        form, account = await admin_form(request)
        kiosk_id = str(form.get("id") or "").strip()
        location = str(form.get("location") or "").strip()
        if not KIOSK_ID.fullmatch(kiosk_id):
            raise PageError(422, "kiosk_id_invalid", field="id")
        if not location or len(location) > 200:
            raise PageError(422, "location_required", field="location")
        issued = await kiosks.add(kiosk_id, location)
        await note(account, request, "kiosk_add", kiosk_id=kiosk_id)
        # The token is shown this once; the gateway keeps only its hash.
        return await kiosks_page(request, issued=issued, status=201)

    @router.post("/kiosks/{kiosk_id}/revoke")
    async def kiosk_revoke(kiosk_id: str, request: Request) -> Response:
        _, account = await admin_form(request)
        if not KIOSK_ID.fullmatch(kiosk_id):
            raise PageError(404, "not_found")
        await kiosks.revoke(kiosk_id)
        await note(account, request, "kiosk_revoke", kiosk_id=kiosk_id)
        return RedirectResponse(f"{PREFIX}/admin/kiosks", status_code=303)

    # Accounts

    async def accounts_page(request: Request, **values: Any) -> Response:
        found = await web.accounts.list()
        return await page(request, "admin_accounts.html", accounts=found, roles=ROLES, **values)

    @router.get("/accounts")
    async def account_list(request: Request) -> Response:
        await admin(request)
        return await accounts_page(request)

    @router.post("/accounts")
    async def account_add(request: Request) -> Response:
        form, account = await admin_form(request)
        login = str(form.get("login") or "").strip().lower()
        role = str(form.get("role") or "")
        official_id = str(form.get("official_id") or "").strip() or None
        center = str(form.get("center") or "").strip() or None
        password = str(form.get("password") or "") or generate_password()
        try:
            if official_id and await dash.routing.official(official_id) is None:
                raise AccountInvalid("official_id", "official_unknown")
            created = await web.accounts.add(
                login=login,
                role=role,
                official_id=official_id,
                password=password,
                center=center,
            )
        except AccountInvalid as exc:
            return await accounts_page(
                request,
                status=422,
                error={"field": exc.field, "code": exc.code},
                values={
                    "login": login,
                    "role": role,
                    "official_id": official_id or "",
                    "center": center or "",
                },
            )
        await note(account, request, "account_add", login=created.login, role=created.role)
        generated = None if form.get("password") else password
        return await accounts_page(request, status=201, created=created, generated=generated)

    @router.post("/accounts/{login}/deactivate")
    async def account_deactivate(login: str, request: Request) -> Response:
        _, account = await admin_form(request)
        if login == account.login:
            raise PageError(422, "cannot_deactivate_self", field="login")
        if not await web.accounts.deactivate(login):
            raise PageError(404, "not_found")
        await note(account, request, "account_deactivate", login=login)
        return RedirectResponse(f"{PREFIX}/admin/accounts", status_code=303)

    # Audit log

    @router.get("/audit")
    async def audit_log(request: Request) -> Response:
        session, _ = await admin(request)
        q = request.query_params
        action = q.get("action", "")
        if action and action not in audit.ACTIONS:
            raise PageError(422, "invalid", field="action")
        before = None
        if q.get("before"):
            try:
                before = datetime.fromisoformat(q["before"])
            except ValueError as exc:
                raise PageError(422, "date_invalid", field="before") from exc
        entries = await repo.list_audit(
            dash.db,
            action=action or None,
            login=q.get("login", "")[:40] or None,
            appeal_id=q.get("appeal_id", "")[:100] or None,
            before=before,
            limit=100,
        )
        return web.render(
            request,
            "admin_audit.html",
            session=session,
            entries=entries,
            actions=audit.ACTIONS,
            action=action,
            login=q.get("login", ""),
            appeal_id=q.get("appeal_id", ""),
            older=entries[-1]["at"].isoformat() if len(entries) == 100 else None,
        )

    # Dead letters

    def letters() -> DeadLetters:
        if dead_letters is None:
            raise PageError(404, "not_found")
        return dead_letters

    def shown_count(value: str | None) -> int | None:
        return int(value) if value is not None and value.isdigit() and len(value) < 8 else None

    def known_queue(queue: str) -> str:
        if not QUEUE.fullmatch(queue):
            raise PageError(404, "queue_unknown")
        return queue

    async def on_bus(action: Any) -> Any:
        try:
            return await action
        except UnknownQueue as exc:
            raise PageError(404, "queue_unknown") from exc
        except Exception as exc:
            if not is_transient(exc) and not isinstance(exc, OSError):
                raise
            # The broker or the database is away: say so, change nothing.
            raise PageError(503, "unavailable") from exc

    @router.get("/dead-letters")
    async def dead_letter_list(request: Request) -> Response:
        session, _ = await admin(request)
        rows = await on_bus(letters().summary())
        return web.render(
            request,
            "admin_dead_letters.html",
            session=session,
            rows=rows,
            replayed=shown_count(request.query_params.get("replayed")),
        )

    @router.get("/dead-letters/{queue}")
    async def dead_letter_queue(queue: str, request: Request) -> Response:
        session, _ = await admin(request)
        name = known_queue(queue)
        shown = await on_bus(letters().show(name, DLQ_PAGE))
        q = request.query_params
        return web.render(
            request,
            "admin_dead_letter_queue.html",
            session=session,
            queue=name,
            letters=shown,
            page=DLQ_PAGE,
            replayed=shown_count(q.get("replayed")),
            dropped=q.get("dropped") == "1",
        )

    @router.post("/dead-letters/{queue}/replay")
    async def dead_letter_replay(queue: str, request: Request) -> Response:
        form, account = await admin_form(request)
        name = known_queue(queue)
        ids = [str(i) for i in form.getlist("id") if str(i)] or None
        count = await on_bus(letters().replay(name, ids))
        await note(account, request, "dlq_replay", queue=name, ids=ids or "all", count=count)
        back = f"{PREFIX}/admin/dead-letters" + (f"/{name}" if ids else "")
        return RedirectResponse(f"{back}?replayed={count}", status_code=303)

    @router.post("/dead-letters/{queue}/drop")
    async def dead_letter_drop(queue: str, request: Request) -> Response:
        form, account = await admin_form(request)
        name = known_queue(queue)
        message_id = str(form.get("id") or "").strip()
        if not message_id or len(message_id) > 200:
            raise PageError(422, "invalid", field="id")
        if not await on_bus(letters().drop(name, message_id)):
            raise PageError(404, "not_found")
        await note(account, request, "dlq_drop", queue=name, ids=[message_id])
        return RedirectResponse(f"{PREFIX}/admin/dead-letters/{name}?dropped=1", status_code=303)

    return router
