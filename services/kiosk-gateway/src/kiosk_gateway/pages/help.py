"""The public /help pages: the reference desk's index and search, and one page per entry at a
stable address (what the booth's printed sheet links to)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from dialog_platform.settings import CommonSettings

from ..help import entry_page, index_page
from ..reference import ReferenceDesk
from .base import catalogs, render


def build_help_router(desk: ReferenceDesk, common: CommonSettings) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    messages = catalogs()
    development = common.is_development

    @router.get("/help")
    async def help_index(lang: str = "", q: str = "", topic: str = "") -> HTMLResponse:
        config, status = await index_page(desk, messages, lang=lang, q=q, topic=topic)
        response = render("help.html", config, development=development)
        response.status_code = status
        return response

    @router.get("/help/{entry_id}")
    async def help_entry(entry_id: str, lang: str = "") -> HTMLResponse:
        config, status = await entry_page(desk, messages, entry_id=entry_id, lang=lang)
        response = render("help.html", config, development=development)
        response.status_code = status
        return response

    return router
