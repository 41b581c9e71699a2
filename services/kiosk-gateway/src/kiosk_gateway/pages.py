"""The booth's touchscreen app (/kiosk), its enrolment, and the citizens' tracking page (/track).

Files from `static/`, no build step and nothing from another origin. A page's shared parts (its
frame, the rating block, the booth's typed fields) are Jinja templates in `static/parts/`, put in
once when the page is first served. Every text comes from the message catalogs, handed to the
page as JSON inside the HTML, so a page needs one request.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from dialog_platform.hardening import security_headers
from dialog_platform.settings import CommonSettings

from . import consent
from .kiosks import SESSION_COOKIE, SESSION_HEADER, SESSION_MAX_AGE_S, KioskRegistry
from .settings import KioskGatewaySettings
from .speech import Entry, Official, Speech, build_speech_router

STATIC = Path(__file__).parent / "static"
LANGUAGES = ("kk", "ru")
_ASSET = re.compile(r"^[a-z0-9-]+\.(js|css|svg)$")
_TYPES = {"js": "text/javascript", "css": "text/css", "svg": "image/svg+xml"}
_TEMPLATES = Environment(
    loader=FileSystemLoader(STATIC),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def catalogs() -> dict[str, dict[str, str]]:
    return {
        lang: json.loads((STATIC / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))
        for lang in LANGUAGES
    }


@cache
def template(name: str) -> str:
    """A page of `static/` with its parts put in: what is served, but for its config."""
    return _TEMPLATES.get_template(name).render()


def render(name: str, config: dict[str, Any], *, development: bool) -> HTMLResponse:
    # "<" escaped so no catalog text can close the <script> element that carries the config.
    payload = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")
    html = template(name).replace("__CONFIG__", payload)
    headers = {**security_headers(development=development), "Cache-Control": "no-store"}
    return HTMLResponse(html, headers=headers)


def build_pages_router(
    kiosks: KioskRegistry,
    settings: KioskGatewaySettings,
    common: CommonSettings,
    official: Official | None = None,
    entry: Entry | None = None,
) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    development = common.is_development
    messages = catalogs()
    consent.check(messages)
    router.include_router(
        build_speech_router(
            Speech(settings.speech_folder(common.data_dir), messages, official, entry)
        )
    )

    @router.get("/kiosk")
    async def kiosk_page() -> HTMLResponse:
        return render(
            "kiosk.html",
            {
                "catalog": messages,
                "idle_s": settings.idle_s,
                "idle_confirm_s": settings.idle_confirm_s,
                "receipt_s": settings.receipt_screen_s,
                "heartbeat_s": settings.heartbeat_s,
                "require_identity": settings.require_identity,
                "consent_version": consent.current(),
                "session_header": SESSION_HEADER,
            },
            development=development,
        )

    @router.get("/kiosk/enrol")
    async def enrol(token: str = "") -> Response:
        session = await kiosks.enrol(token) if token else None
        # 303 replaces the enrolment URL, so the token is in neither the address bar nor the
        # page's history; a wrong token lands on the page's "booth not registered" screen.
        response = RedirectResponse("/kiosk", status_code=303)
        response.headers.update({"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
        if session is None:
            response.delete_cookie(SESSION_COOKIE, path="/")
        else:
            response.set_cookie(
                SESSION_COOKIE,
                session,
                max_age=SESSION_MAX_AGE_S,
                path="/",
                httponly=True,
                samesite="strict",
                secure=not development,
            )
        return response

    @router.get("/track")
    async def track_page() -> HTMLResponse:
        return render("track.html", {"catalog": messages}, development=development)

    @router.get("/kiosk/assets/{name}")
    async def asset(name: str) -> Response:
        match = _ASSET.match(name)
        path = STATIC / name
        if match is None or not path.is_file():
            return Response(status_code=404)
        return Response(
            path.read_bytes(),
            media_type=_TYPES[match.group(1)],
            headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
        )

    return router
