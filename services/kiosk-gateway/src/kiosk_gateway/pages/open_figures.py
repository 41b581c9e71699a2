"""`/open`, its downloads (CSV, JSON) and the README of the fields, served from the gateway's
copy of the open figures (`open_figures.OpenFiguresCopy`): a request costs one look-up."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from dialog_platform.errors import ApiError
from dialog_platform.hardening import security_headers

from ..open_figures import OpenFiguresCopy
from .base import LANGUAGES

CACHE_CONTROL = "public, max-age=60"


def _bad(code: str, kk: str, ru: str, field_name: str) -> ApiError:
    return ApiError(422, code, kk, ru, field=field_name)


def _language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise _bad("language_invalid", "Тіл: kk немесе ru", "Язык: kk или ru", "lang")
    return lang


def _respond(
    request: Request, body: bytes, etag: str, media_type: str, headers: dict[str, str]
) -> Response:
    headers = {**headers, "ETag": etag, "Cache-Control": CACHE_CONTROL}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def build_open_router(copy: OpenFiguresCopy, *, development: bool) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    page_headers = {**security_headers(development=development), "Vary": "Accept-Encoding"}

    @router.get("/open")
    async def open_page(request: Request, lang: str = "kk", month: str = "") -> Response:
        lang = _language(lang)
        if month and (copy.data is None or month not in copy.data["months"]):
            raise _bad(
                "month_invalid",
                "Ай ЖЖЖЖ-АА түрінде, соңғы 12 айдың бірі болуы керек",
                "Месяц — в виде ГГГГ-ММ, один из последних 12",
                "month",
            )
        body, etag = copy.served("page", lang, month)
        return _respond(request, body, etag, "text/html; charset=utf-8", page_headers)

    @router.get("/open/README")
    async def readme(request: Request, lang: str = "kk") -> Response:
        body, etag = copy.served("readme", _language(lang))
        return _respond(request, body, etag, "text/html; charset=utf-8", page_headers)

    @router.get("/open/data.csv")
    async def data_csv(request: Request) -> Response:
        body, etag = copy.served("csv")
        disposition = {"Content-Disposition": 'attachment; filename="dialog-open-figures.csv"'}
        return _respond(request, body, etag, "text/csv; charset=utf-8", disposition)

    @router.get("/open/data.json")
    async def data_json(request: Request) -> Response:
        body, etag = copy.served("json")
        return _respond(request, body, etag, "application/json", {})

    return router
