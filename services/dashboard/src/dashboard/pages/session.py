"""Logging in and out, the language switch, the start page and the static files."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from .. import audit, metrics
from ..accounts import LoginLocked
from ..i18n import COOKIE as LANG_COOKIE
from ..i18n import LANGS
from .base import PREFIX, SESSION_COOKIE, PageError, Web, client_ip

STATIC = {
    "dashboard.css": "text/css; charset=utf-8",
    "inbox.js": "text/javascript; charset=utf-8",
    "case.js": "text/javascript; charset=utf-8",
    "files.js": "text/javascript; charset=utf-8",
    "workbench.js": "text/javascript; charset=utf-8",
}


def safe_next(target: str | None) -> str:
    """Only a path inside the dashboard: never another site after logging in."""
    if target and target.startswith(f"{PREFIX}/") and "//" not in target and "\\" not in target:
        return target
    return f"{PREFIX}/"


def home_of(role: str) -> str:
    return {
        "official": f"{PREFIX}/inbox",
        "controller": f"{PREFIX}/control",
        "admin": f"{PREFIX}/admin/officials",
        "operator": f"{PREFIX}/booths",
    }.get(role, f"{PREFIX}/login")


def build_router(web: Web) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["dashboard"], route_class=web.route_class())

    @router.get("/")
    async def home(request: Request) -> Response:
        _, account = await web.account(request)
        return RedirectResponse(home_of(account.role), status_code=303)

    @router.get("/login")
    async def login_page(request: Request, next: str | None = None) -> Response:
        session = await web.session(request)
        if session is not None and session.account is not None:
            return RedirectResponse(safe_next(next) if next else home_of(session.account.role), 303)
        if session is not None:
            return web.render(request, "login.html", session=session, next=safe_next(next))
        # A session before logging in carries the CSRF token the login form needs.
        fresh = await web.accounts.new_session(None, ip=client_ip(request))
        response = web.render(request, "login.html", session=fresh, next=safe_next(next))
        web.set_session_cookie(response, fresh)
        return response

    @router.post("/login")
    async def login(request: Request) -> Response:
        session = await web.session(request)
        form = await web.form(request, session)
        assert session is not None
        login = str(form.get("login") or "").strip().lower()
        password = str(form.get("password") or "")
        target = safe_next(str(form.get("next") or ""))
        ip = client_ip(request)
        now = web.dashboard.clock()
        try:
            account = await web.accounts.authenticate(login, password, ip=ip)
        except LoginLocked as exc:
            metrics.login("locked")
            await audit.record(
                web.dashboard.db,
                at=now,
                action="login_failed",
                login=login[:40],
                detail={"locked": True},
                ip=ip,
            )
            raise PageError(
                429, "too_many_logins", headers={"Retry-After": str(exc.retry_after_s)}
            ) from exc
        if account is None:
            metrics.login("failed")
            await audit.record(
                web.dashboard.db, at=now, action="login_failed", login=login[:40], ip=ip
            )
            return web.render(
                request,
                "login.html",
                session=session,
                status=401,
                next=target,
                error="login_wrong",
                login=login,
            )
        metrics.login("ok")
        # A new session id on login, so a session id planted before it is worth nothing.
        await web.accounts.end_session(session.id)
        fresh = await web.accounts.new_session(account, ip=ip)
        await audit.record(
            web.dashboard.db, at=now, action="login", login=account.login, account=account, ip=ip
        )
        response = RedirectResponse(
            target if target != f"{PREFIX}/" else home_of(account.role), status_code=303
        )
        web.set_session_cookie(response, fresh)
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        session = await web.session(request)
        await web.form(request, session)
        assert session is not None
        await web.accounts.end_session(session.id)
        if session.account is not None:
            await audit.record(
                web.dashboard.db,
                at=web.dashboard.clock(),
                action="logout",
                login=session.account.login,
                account=session.account,
                ip=client_ip(request),
            )
        response = RedirectResponse(f"{PREFIX}/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=PREFIX)
        return response

    @router.get("/lang/{lang}")
    async def switch_language(lang: str, request: Request, next: str | None = None) -> Response:
        if lang not in LANGS:
            raise PageError(404, "not_found")
        response = RedirectResponse(safe_next(next), status_code=303)
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=365 * 86400,
            path=PREFIX,
            samesite="lax",
            secure=web.secure_cookies,
        )
        return response

    @router.get("/static/{name}")
    async def static(name: str) -> Response:
        if name not in STATIC:
            raise PageError(404, "not_found")
        data = resources.files("dashboard").joinpath(f"static/{name}").read_bytes()
        return Response(
            data, media_type=STATIC[name], headers={"Cache-Control": "public, max-age=300"}
        )

    return router
