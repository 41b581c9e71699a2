"""The reference desk as the booth and the public ask it: a listing (a word search, a topic,
an official's department), a sheet printed at the booth, and what the /help pages show. The
routes are the booth's in `api.py` and the public /help pages in `pages/help.py`.

/help is the tracking page's sibling: a plain page from `static/` whose entries come inside
the page's config, so the text is in the first response and a search needs no script.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from dialog_contracts import Language, Localized, ReferenceContent, ReferencePrintRequested
from dialog_platform.errors import ApiError
from dialog_platform.outbox import Outbox, Pending
from dialog_platform.ratelimit import SlidingWindow

from .directory import DirectoryReplica
from .messages import error
from .reference import MAX_QUERY_CHARS, ReferenceDesk, full, summary

Doc = dict[str, Any]
LANGUAGES = ("kk", "ru")
# A booth serves perhaps a few dozen citizens an hour; more sheets than this is a stuck finger.
REFERENCE_PRINTS_PER_HOUR = 60


async def listing(
    desk: ReferenceDesk, *, q: str, topic: str, official: str, departments: list[str], where: str
) -> Doc:
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


async def listing_for_booth(
    desk: ReferenceDesk, directory: DirectoryReplica, *, q: str, topic: str, official: str
) -> Doc:
    """The booth's listing: with an official chosen, their department's entries too."""
    departments: list[str] = []
    if official:
        found = await directory.official(official)
        department = (found or {}).get("department") or {}
        departments = [department["ru"]] if department.get("ru") else []
    return await listing(
        desk, q=q, topic=topic, official=official, departments=departments, where="booth"
    )


@dataclass
class ReferencePrints:
    """An entry on the booth's receipt printer, through its print queue like a receipt."""

    desk: ReferenceDesk
    outbox: Outbox
    public_url: str
    # Paper is for citizens at the booth, not for a loop that presses the button.
    window: SlidingWindow

    async def request(self, kiosk: Doc, entry_id: str, language: Language) -> None:
        doc = await self.desk.entry(entry_id)
        if doc is None:
            raise error(404, "reference_not_found")
        if not self.window.allow(kiosk["_id"]):
            raise error(429, "reference_print_limit", headers={"Retry-After": "600"})
        event = ReferencePrintRequested(
            print_id=uuid.uuid4().hex,
            kiosk_id=kiosk["_id"],
            entry_id=entry_id,
            language=language,
            center=Localized(kk=kiosk["location"], ru=kiosk["location"]),
            entry=ReferenceContent.model_validate(doc["entry"]),
            page_url=f"{self.public_url.rstrip('/')}/help/{entry_id}?lang={language}",
        )

        async def queue(tx: Pending) -> None:
            tx.add(event)

        await self.outbox.run(queue)


def _lang(lang: str) -> str:
    return lang if lang in LANGUAGES else "kk"


async def index_page(
    desk: ReferenceDesk, catalog: Doc, *, lang: str, q: str, topic: str
) -> tuple[Doc, int]:
    """The /help page's config and status: the topics and the entries found."""
    try:
        found = await listing(desk, q=q, topic=topic, official="", departments=[], where="web")
        status = 200
    except ApiError:  # a query too long to be one: the page says nothing was found
        found, status = {"topics": await desk.topics(), "entries": [], "q": ""}, 422
    return {"catalog": catalog, "lang": _lang(lang), **found, "entry": None}, status


async def entry_page(
    desk: ReferenceDesk, catalog: Doc, *, entry_id: str, lang: str
) -> tuple[Doc, int]:
    """An entry's /help page's config and status (404 with the page when there is none)."""
    doc = await desk.entry(entry_id)
    config: Doc = {
        "catalog": catalog,
        "lang": _lang(lang),
        "topics": [],
        "entries": [],
        "entry": full(doc) if doc else None,
        "missing": doc is None,
    }
    if doc is not None:
        await desk.count_view(entry_id, where="web")
    return config, 200 if doc else 404
