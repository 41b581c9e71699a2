"""What every page shares: templates, the session cookie, CSRF, and HTML error pages."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import FormData

from dialog_platform.phones import mask_phone

from ..accounts import Accounts
from ..clients import Refused, Unavailable
from ..i18n import COOKIE as LANG_COOKIE
from ..i18n import Lang, Translator, catalog, pick
from ..models import Account, Session
from ..present import format_phone, local_date, local_dt, mask_iin, stamp, video_length
from ..service import Dashboard
from ..settings import DashboardSettings

log = logging.getLogger(__name__)

SESSION_COOKIE = "dialog_session"
CSRF_HEADER = "X-CSRF-Token"
PREFIX = "/dashboard"


class PageError(Exception):
    """Shown as an HTML page (or JSON for JSON routes) with the message of `code`."""

    def __init__(
        self,
        status: int,
        code: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code
        self.field = field
        self.headers = headers


class NeedLogin(Exception):
    pass


def lang_of(request: Request) -> Lang:
    return pick(request.cookies.get(LANG_COOKIE))


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def wants_json(request: Request) -> bool:
    path = request.url.path
    return (
        path.endswith((".json", "/video"))
        or path.startswith(f"{PREFIX}/internal/")
        or request.headers.get("accept", "").startswith("application/json")
    )


def messages_of(code: str) -> dict[str, str]:
    key = f"error.{code}" if f"error.{code}" in catalog("kk") else "error.invalid"
    return {"kk": Translator("kk")(key), "ru": Translator("ru")(key)}


def _error_json(
    status: int, code: str, field: str | None = None, message: dict[str, str] | None = None
) -> JSONResponse:
    error: dict[str, Any] = {"code": code, "message": message or messages_of(code)}
    if field:
        error["field"] = field
    return JSONResponse({"error": error}, status_code=status)


@dataclass
class Web:
    dashboard: Dashboard
    accounts: Accounts
    settings: DashboardSettings
    secure_cookies: bool
    env: Environment

    @classmethod
    def create(
        cls,
        dashboard: Dashboard,
        accounts: Accounts,
        settings: DashboardSettings,
        *,
        secure_cookies: bool,
    ) -> Web:
        env = Environment(
            loader=PackageLoader("dashboard", "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters.update(
            dt=local_dt, date=local_date, masked=mask_phone, phone=format_phone, q=quote
        )
        env.filters.update(iin=mask_iin, stamp=stamp, length_ms=video_length)
        return cls(dashboard, accounts, settings, secure_cookies, env)

    # Sessions

    async def session(self, request: Request) -> Session | None:
        if hasattr(request.state, "dashboard_session"):
            cached: Session | None = request.state.dashboard_session
            return cached
        found = await self.accounts.session(request.cookies.get(SESSION_COOKIE))
        request.state.dashboard_session = found
        return found

    async def account(self, request: Request) -> tuple[Session, Account]:
        session = await self.session(request)
        if session is None or session.account is None:
            raise NeedLogin()
        return session, session.account

    def set_session_cookie(self, response: Response, session: Session) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            session.id,
            max_age=self.settings.session_ttl_s,
            path=PREFIX,
            httponly=True,
            samesite="lax",
            secure=self.secure_cookies,
        )

    async def form(self, request: Request, session: Session | None) -> FormData:
        """The posted form, once its CSRF token matched the session's; 403 otherwise."""
        form = await request.form()
        given = request.headers.get(CSRF_HEADER) or str(form.get("csrf") or "")
        if session is None or not given or not hmac.compare_digest(given, session.csrf):
            raise PageError(403, "csrf")
        return form

    def check_csrf_header(self, request: Request, session: Session) -> None:
        given = request.headers.get(CSRF_HEADER, "")
        if not given or not hmac.compare_digest(given, session.csrf):
            raise PageError(403, "csrf")

    # Rendering

    def render(
        self,
        request: Request,
        template: str,
        *,
        session: Session | None = None,
        status: int = 200,
        headers: dict[str, str] | None = None,
        **values: Any,
    ) -> HTMLResponse:
        lang = lang_of(request)
        t = Translator(lang)
        html = self.env.get_template(template).render(
            t=t,
            lang=lang,
            other_lang="ru" if lang == "kk" else "kk",
            account=session.account if session else None,
            csrf=session.csrf if session else "",
            path=request.url.path,
            # Matches the due-soon list only if routing uses the same lead (both default to 3).
            soon_days=self.settings.due_soon_days,
            here=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
            **values,
        )
        response = HTMLResponse(html, status_code=status, headers=headers)
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cache-Control"] = "no-store"
        return response

    def error_page(
        self,
        request: Request,
        status: int,
        code: str,
        *,
        headers: dict[str, str] | None = None,
        field: str | None = None,
        message: dict[str, str] | None = None,
    ) -> Response:
        if message is not None and not (message.get("kk") and message.get("ru")):
            message = None
        if wants_json(request):
            response = _error_json(status, code, field, message)
            if headers:
                response.headers.update(headers)
            return response
        session = getattr(request.state, "dashboard_session", None)
        return self.render(
            request,
            "error.html",
            session=session or None,
            status=status,
            headers=headers,
            code=code,
            status_code=status,
            field=field,
            message=(message or messages_of(code))[lang_of(request)],
        )

    def route_class(self) -> type[APIRoute]:
        """Routes whose errors become this app's pages (the process-wide handlers answer JSON)."""
        web = self

        class DashboardRoute(APIRoute):
            def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
                handler = super().get_route_handler()

                async def guarded(request: Request) -> Response:
                    try:
                        return await handler(request)
                    except NeedLogin:
                        if request.method == "GET" and not wants_json(request):
                            target = quote(request.url.path, safe="/")
                            return RedirectResponse(
                                f"{PREFIX}/login?next={target}", status_code=303
                            )
                        return web.error_page(request, 401, "login_required")
                    except PageError as exc:
                        return web.error_page(
                            request, exc.status, exc.code, headers=exc.headers, field=exc.field
                        )
                    except RequestValidationError as exc:
                        errors = exc.errors()
                        loc = errors[0].get("loc", ()) if errors else ()
                        field = ".".join(str(p) for p in loc if p not in ("body", "query", "path"))
                        return web.error_page(request, 422, "invalid", field=field or None)
                    except Refused as exc:
                        status = exc.status if exc.status in (404, 409, 413, 415, 422) else 400
                        return web.error_page(
                            request, status, exc.code, field=exc.field, message=exc.message
                        )
                    except Unavailable:
                        return web.error_page(request, 503, "unavailable")

                return guarded

        return DashboardRoute
