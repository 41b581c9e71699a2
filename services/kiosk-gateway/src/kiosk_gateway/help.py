"""The reference desk's routes: the booth's API, the public /help pages (one per entry, at a
stable address), and the counts the dashboard pulls for its statistics.

/help is the tracking page's sibling: a plain page from `static/` whose entries come inside
the page's config, so the text is in the first response and a search needs no script.
"""

# No `from __future__ import annotations`: FastAPI must see the closure-local `Kiosk`
# dependency alias when it reads the route signatures.

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from dialog_contracts import Localized, ReferenceContent, ReferencePrintRequested
from dialog_platform.errors import ApiError
from dialog_platform.internal import RequireInternal
from dialog_platform.outbox import Outbox, Pending
from dialog_platform.ratelimit import SlidingWindow
from dialog_platform.settings import CommonSettings

from .api import kiosk_dependency
from .directory import DirectoryReplica
from .kiosks import KioskRegistry
from .messages import error
from .pages import catalogs, render
from .reference import MAX_QUERY_CHARS, ReferenceDesk, full, summary

LANGUAGES = ("kk", "ru")
# A booth serves perhaps a few dozen citizens an hour; more sheets than this is a stuck finger.
REFERENCE_PRINTS_PER_HOUR = 60


class PrintRequest(BaseModel):
    language: Literal["kk", "ru"]


class Recorded(BaseModel):
    entries: list[Annotated[str, Field(max_length=80)]] = Field(max_length=20)


async def _listing(
    desk: ReferenceDesk, *, q: str, topic: str, official: str, departments: list[str], where: str
) -> dict[str, Any]:
    if len(q) > MAX_QUERY_CHARS or len(topic) > 40 or len(official) > 100:
        raise error(422, "reference_query_invalid", field="q")
    found = await desk.find(text=q, topic=topic, official=official, departments=departments)
    if q.strip() and not found:
        await desk.count_miss(q)
    return {
        "topics": await desk.topics(),
        "entries": [summary(d) for d in found],
        "q": q,
        "topic": topic,
        "where": where,
    }


def build_reference_router(
    desk: ReferenceDesk,
    kiosks: KioskRegistry,
    directory: DirectoryReplica,
    common: CommonSettings,
    *,
    outbox: Outbox,
    public_url: str,
    prints: SlidingWindow,
) -> APIRouter:
    router = APIRouter()
    Kiosk = Annotated[dict[str, Any], Depends(kiosk_dependency(kiosks))]
    messages = catalogs()
    development = common.is_development

    @router.get("/api/v1/reference", tags=["booth"])
    async def booth_listing(
        kiosk: Kiosk, q: str = "", topic: str = "", official: str = ""
    ) -> dict[str, Any]:
        departments: list[str] = []
        if official:
            found = await directory.official(official)
            department = (found or {}).get("department") or {}
            departments = [department["ru"]] if department.get("ru") else []
        return await _listing(
            desk, q=q, topic=topic, official=official, departments=departments, where="booth"
        )

    @router.get("/api/v1/reference/{entry_id}", tags=["booth"])
    async def booth_entry(kiosk: Kiosk, entry_id: str) -> dict[str, Any]:
        doc = await desk.entry(entry_id)
        if doc is None:
            raise error(404, "reference_not_found")
        await desk.count_view(entry_id, where="booth")
        return full(doc)

    @router.post("/api/v1/reference/{entry_id}/print", status_code=202, tags=["booth"])
    async def print_entry(kiosk: Kiosk, entry_id: str, body: PrintRequest) -> dict[str, str]:
        """The entry on the booth's receipt printer, through its print queue like a receipt."""
        doc = await desk.entry(entry_id)
        if doc is None:
            raise error(404, "reference_not_found")
        # Paper is for citizens at the booth, not for a loop that presses the button.
        if not prints.allow(kiosk["_id"]):
            raise error(429, "reference_print_limit", headers={"Retry-After": "600"})
        event = ReferencePrintRequested(
            print_id=uuid.uuid4().hex,
            kiosk_id=kiosk["_id"],
            entry_id=entry_id,
            language=body.language,
            center=Localized(kk=kiosk["location"], ru=kiosk["location"]),
            entry=ReferenceContent.model_validate(doc["entry"]),
            page_url=f"{public_url.rstrip('/')}/help/{entry_id}?lang={body.language}",
        )

        async def request(tx: Pending) -> None:
            await tx.add(event)

        await outbox.run(request)
        return {"status": "queued"}

    @router.post("/api/v1/reference/recorded", status_code=204, tags=["booth"])
    async def recorded(kiosk: Kiosk, body: Recorded) -> None:
        """The entries a citizen opened before recording an appeal all the same."""
        await desk.count_recorded(body.entries)

    @router.get("/api/v1/reference-stats", tags=["internal"])
    async def stats(_: RequireInternal) -> dict[str, Any]:
        return await desk.stats()

    def lang_of(lang: str) -> str:
        return lang if lang in LANGUAGES else "kk"

    @router.get("/help", include_in_schema=False)
    async def help_index(lang: str = "", q: str = "", topic: str = "") -> HTMLResponse:
        try:
            listing = await _listing(
                desk, q=q, topic=topic, official="", departments=[], where="web"
            )
            status = 200
        except ApiError:  # a query too long to be one: the page says nothing was found
            listing, status = {"topics": await desk.topics(), "entries": [], "q": ""}, 422
        config = {"catalog": messages, "lang": lang_of(lang), **listing, "entry": None}
        response = render("help.html", config, development=development)
        response.status_code = status
        return response

    @router.get("/help/{entry_id}", include_in_schema=False)
    async def help_entry(entry_id: str, lang: str = "") -> HTMLResponse:
        doc = await desk.entry(entry_id)
        config: dict[str, Any] = {
            "catalog": messages,
            "lang": lang_of(lang),
            "topics": [],
            "entries": [],
            "entry": full(doc) if doc else None,
            "missing": doc is None,
        }
        if doc is not None:
            await desk.count_view(entry_id, where="web")
        response = render("help.html", config, development=development)
        response.status_code = 200 if doc else 404
        return response

    return router
