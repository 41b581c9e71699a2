"""The booth's touchscreen app (/kiosk), its enrolment, its files (scripts, styles, the spoken
prompts), and the citizens' tracking page (/track)."""

from __future__ import annotations

import re

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from dialog_platform.settings import CommonSettings

from .. import consent
from ..kiosks import SESSION_COOKIE, SESSION_HEADER, SESSION_MAX_AGE_S, KioskRegistry
from ..messages import error
from ..settings import KioskGatewaySettings
from ..speech import Entry, Official, Speech, SpeechUnavailable, clip_of
from .base import STATIC, catalogs, render

_ASSET = re.compile(r"^[a-z0-9-]+\.(js|css|svg)$")
_TYPES = {"js": "text/javascript", "css": "text/css", "svg": "image/svg+xml"}


def build_speech_router(speech: Speech) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/kiosk/speech/{lang}/{name}")
    async def clip(lang: str, name: str) -> Response:
        stem = clip_of(name)
        if stem is None:
            raise error(404, "speech_not_found")
        said = await speech.said(lang, stem)
        if said is None:
            raise error(404, "speech_not_found")
        try:
            path = await speech.path(lang, stem, said)
        except SpeechUnavailable as exc:
            raise error(503, "speech_unavailable") from exc
        return FileResponse(
            path,
            media_type="audio/wav",
            headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
        )

    return router


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
