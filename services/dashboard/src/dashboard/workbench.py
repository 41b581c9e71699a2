"""The officials' workbench: search, who is asking, topics, answer templates, drafts, notes.

Plain functions over the `Dashboard` (its database, routing client and clock), as service.py
holds the answer itself. Everything a person changes or reveals here is in the audit log.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from dialog_contracts.routing_api import Subject

from . import audit
from . import repository as repo
from .models import Account
from .present import local_date, mask_iin
from .search import Query, format_number, key_range, parse
from .service import Dashboard

Json = dict[str, Any]
PAGE = 20
MAX_NOTE_CHARS = 2_000
MAX_SUMMARY_CHARS = 200
MAX_TEMPLATE_CHARS = 5_000
MAX_GUESSES = 30
# A visit is one sitting: coming back within this long is the same visit, so a reload or a
# return from a case keeps the marks of what was new when the sitting began.
VISIT_GAP = timedelta(minutes=30)
PLACEHOLDERS = ("citizen_name", "number", "official_name", "control_date")
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
TOPIC_ID = re.compile(r"^[a-z0-9-]{1,40}$")
TEMPLATE_ID = re.compile(r"^[a-z0-9-]{1,60}$")


class Rejected(Exception):
    """Bad input from a form: `code` is a kk/ru message, `field` the field it is about."""

    def __init__(self, code: str, field: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.field = field


async def _audit(
    dash: Dashboard,
    account: Account,
    action: str,
    *,
    ip: str,
    appeal_id: str | None = None,
    detail: Json | None = None,
) -> None:
    await audit.record(
        dash.db,
        at=dash.clock(),
        action=action,
        login=account.login,
        account=account,
        appeal_id=appeal_id,
        detail=detail,
        ip=ip,
    )


# Who is asking


async def case_files(dash: Dashboard, ids: list[str]) -> dict[str, Json]:
    return await repo.case_files(dash.db, ids=ids)


def with_files(cases: list[Json], files: dict[str, Json]) -> list[Json]:
    """List rows with the read model's name and video length beside routing's fields."""
    rows = []
    for c in cases:
        f = files.get(c["appeal_id"], {})
        rows.append(
            {
                **c,
                "citizen_name": f.get("full_name"),
                "video_duration_s": f.get("video_duration_s"),
            }
        )
    return rows


async def reveal_iin(dash: Dashboard, account: Account, case: Json, *, ip: str) -> str:
    found = await repo.get_case_file(dash.db, appeal_id=case["appeal_id"])
    iin = str((found or {}).get("iin") or "")
    if iin:
        await _audit(dash, account, "iin_reveal", appeal_id=case["appeal_id"], ip=ip)
    return iin


# Search


@dataclass
class SearchResult:
    query: Query
    rows: list[Json] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    next: str | None = None


def _scope(account: Account) -> str | None:
    if account.sees_all_cases:
        return None
    if account.official_of is not None:
        return account.official_of
    raise Rejected("not_found")


async def find(
    dash: Dashboard, account: Account, text: str, *, after: str | None = None, limit: int = PAGE
) -> tuple[list[Json], str | None]:
    """The read-model documents of the cases the text finds, in key order, and the next cursor;
    only the account's own cases unless it sees all (the range itself is scoped)."""
    query = parse(text)
    scope = _scope(account)
    if query.kind == "number_guess":
        return [], None
    # A name of several words: the longest word's range, the others checked on each document.
    term = max(query.terms, key=len)
    rest = set(query.terms) - {term}
    keys = key_range(query.kind, term, scope)
    fetch = limit + 1 if not rest else (limit + 1) * 5
    found: dict[str, tuple[str, Json]] = {}
    for key in keys.fields:
        for doc in await repo.find_case_files(
            dash.db, key=key, low=keys.low, high=keys.high, after=after, limit=fetch
        ):
            if rest - set(doc.get("words") or []):
                continue
            mark = str(doc[key])
            if doc["_id"] not in found or mark < found[doc["_id"]][0]:
                found[doc["_id"]] = (mark, doc)
    ordered = sorted(found.values(), key=lambda pair: pair[0])
    page = ordered[:limit]
    next_cursor = page[-1][0] if len(ordered) > limit else None
    return [doc for _, doc in page], next_cursor


async def guesses(dash: Dashboard, account: Account, query: Query) -> list[str]:
    """Of the valid numbers near a mistyped one, those of cases this account may see."""
    scope = _scope(account)
    found = []
    for digits in query.guesses[:MAX_GUESSES]:
        keys = key_range("number", digits, scope)
        hit = await repo.find_case_files(
            dash.db, key=keys.fields[0], low=keys.low, high=keys.high, after=None, limit=1
        )
        if hit:
            found.append(format_number(digits))
    return found


async def search(
    dash: Dashboard, account: Account, text: str, *, after: str | None = None
) -> SearchResult:
    query = parse(text)
    if query.kind == "number_guess":
        return SearchResult(query, suggestions=await guesses(dash, account, query))
    docs, next_cursor = await find(dash, account, text, after=after)
    cases = await asyncio.gather(*(dash.routing.case(d["_id"]) for d in docs))
    files = {d["_id"]: d for d in docs}
    # Routing has the last word on who handles a case: a forward the read model has not yet
    # heard of never shows another official's case.
    visible = [c for c in cases if c is not None and dash.may_see(account, c)]
    return SearchResult(query, rows=with_files(visible, files), next=next_cursor)


# "New since your last visit"


async def visit(dash: Dashboard, account: Account) -> datetime | None:
    """When the account's previous sitting ended (None on a first visit); notes this one."""
    now = dash.clock()
    found = await repo.get_visit(dash.db, login=account.login) or {}
    last_seen, since = found.get("last_seen"), found.get("since")
    if isinstance(last_seen, datetime) and now - last_seen > VISIT_GAP:
        since = last_seen
    await repo.set_visit(dash.db, login=account.login, fields={"last_seen": now, "since": since})
    return since if isinstance(since, datetime) else None


# Topics and the case's subject


async def topics(dash: Dashboard, *, active_only: bool = False) -> list[Json]:
    found = await repo.list_topics(dash.db)
    return [t for t in found if t.get("active", True) or not active_only]


async def save_topic(
    dash: Dashboard, account: Account, *, topic_id: str, kk: str, ru: str, active: bool, ip: str
) -> None:
    if not TOPIC_ID.fullmatch(topic_id):
        raise Rejected("topic_id_invalid", "id")
    kk, ru = kk.strip(), ru.strip()
    if not kk or not ru or len(kk) > 100 or len(ru) > 100:
        raise Rejected("topic_name_required", "kk" if not kk or len(kk) > 100 else "ru")
    existing = {t["_id"]: t for t in await repo.list_topics(dash.db)}
    order = existing[topic_id].get("order", 0) if topic_id in existing else len(existing)
    await repo.put_topic(
        dash.db,
        topic={"_id": topic_id, "kk": kk, "ru": ru, "active": active, "order": order},
    )
    await _audit(dash, account, "topic_edit", detail={"topic": topic_id, "active": active}, ip=ip)


async def set_subject(
    dash: Dashboard, account: Account, case: Json, *, topic: str, summary: str, ip: str
) -> Json:
    summary = " ".join(summary.split())
    if len(summary) > MAX_SUMMARY_CHARS:
        raise Rejected("summary_too_long", "summary")
    if topic and topic not in {t["_id"] for t in await topics(dash, active_only=True)}:
        raise Rejected("topic_unknown", "topic")
    body = Subject(topic=topic or None, summary=summary, by=account.login)
    updated = await dash.routing.act(case["appeal_id"], body)
    await _audit(
        dash,
        account,
        "subject",
        appeal_id=case["appeal_id"],
        detail={"topic": topic or None},
        ip=ip,
    )
    return updated


# Answer templates


def check_template(text: str) -> str:
    text = text.strip()
    if not text or len(text) > MAX_TEMPLATE_CHARS:
        raise Rejected("template_text_required", "text")
    unknown = sorted({m for m in PLACEHOLDER.findall(text) if m not in PLACEHOLDERS})
    if unknown:
        raise Rejected("template_placeholder_unknown", "text")
    return text


async def save_template(
    dash: Dashboard,
    account: Account,
    *,
    template_id: str,
    title: str,
    department: str,
    kk: str,
    ru: str,
    ip: str,
) -> None:
    if not account.keeps_templates:
        raise Rejected("not_found")
    if not TEMPLATE_ID.fullmatch(template_id):
        raise Rejected("template_id_invalid", "id")
    title = title.strip()
    if not title or len(title) > 120:
        raise Rejected("template_title_required", "title")
    texts = {}
    for lang, text in (("kk", kk), ("ru", ru)):
        try:
            texts[lang] = check_template(text)
        except Rejected as exc:
            raise Rejected(exc.code, lang) from None
    await repo.put_template(
        dash.db,
        template={
            "_id": template_id,
            "title": title,
            "department": department.strip()[:200] or None,
            **texts,
            "by": account.login,
            "at": dash.clock(),
        },
    )
    await _audit(dash, account, "template_edit", detail={"template": template_id}, ip=ip)


async def delete_template(dash: Dashboard, account: Account, *, template_id: str, ip: str) -> None:
    if not account.keeps_templates or not TEMPLATE_ID.fullmatch(template_id):
        raise Rejected("not_found")
    if not await repo.delete_template(dash.db, template_id=template_id):
        raise Rejected("not_found")
    await _audit(dash, account, "template_delete", detail={"template": template_id}, ip=ip)


def fill(text: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


async def templates_for(
    dash: Dashboard, case: Json, *, citizen_name: str | None, official_name: str
) -> list[Json]:
    """The templates of the case's department and the general ones, in the case's language,
    with the placeholders filled for this case."""
    language = "kk" if case.get("language") == "kk" else "ru"
    citizen = citizen_name or ("азамат" if language == "kk" else "гражданин")
    values = {
        "citizen_name": citizen,
        "number": str(case.get("registration_number") or ""),
        "official_name": official_name,
        "control_date": local_date(case.get("control_date")),
    }
    department = case.get("department")
    return [
        {"id": t["_id"], "title": t["title"], "text": fill(t[language], values)}
        for t in await repo.list_templates(dash.db)
        if not t.get("department") or t.get("department") == department
    ]


# Drafts and notes


async def save_draft(dash: Dashboard, account: Account, case: Json, text: str) -> None:
    from .models import MAX_ANSWER_CHARS

    if len(text) > MAX_ANSWER_CHARS:
        raise Rejected("answer_text_too_long", "text")
    await repo.save_draft(
        dash.db, appeal_id=case["appeal_id"], text=text, login=account.login, at=dash.clock()
    )


async def add_note(dash: Dashboard, account: Account, case: Json, text: str, *, ip: str) -> None:
    text = text.strip()
    if not text or len(text) > MAX_NOTE_CHARS:
        raise Rejected("note_required", "note")
    now = dash.clock()
    await repo.insert_note(
        dash.db,
        note={
            "appeal_id": case["appeal_id"],
            "login": account.login,
            "role": account.role,
            "text": text,
            "at": now,
        },
    )
    await _audit(dash, account, "note", appeal_id=case["appeal_id"], ip=ip)


# What the list and case pages show beside routing's fields


async def visit_since(dash: Dashboard, account: Account) -> datetime | None:
    """The start of "new since your last visit" without counting a visit (the inbox's poll)."""
    since = (await repo.get_visit(dash.db, login=account.login) or {}).get("since")
    return since if isinstance(since, datetime) else None


async def list_context(dash: Dashboard, cases: list[Json], *, since: datetime | None) -> Json:
    files = await case_files(dash, [c["appeal_id"] for c in cases])
    all_topics = await topics(dash)
    return {
        "cases": with_files(cases, files),
        "since": since.timestamp() if since else None,
        "topics": [x for x in all_topics if x.get("active", True)],
        "topic_names": {x["_id"]: x for x in all_topics},
    }


async def case_context(
    dash: Dashboard, account: Account, case: Json, *, show_iin: bool, ip: str
) -> Json:
    found = await repo.get_case_file(dash.db, appeal_id=case["appeal_id"]) or {}
    citizen = found.get("full_name")
    official_name = ""
    try:
        official = await dash.routing.official(str(case.get("official_id")))
    except Exception:  # the page shows without the name in templates rather than not at all
        official = None
    if official:
        name = official.get("full_name") or {}
        official_name = str(name.get(case.get("language") or "ru") or name.get("ru") or "")
    draft = await repo.get_draft(dash.db, appeal_id=case["appeal_id"])
    all_topics = await topics(dash)
    return {
        "citizen_name": citizen,
        "iin_masked": mask_iin(found.get("iin")),
        "iin": await reveal_iin(dash, account, case, ip=ip) if show_iin else None,
        "draft": draft,
        "templates": await templates_for(
            dash, case, citizen_name=citizen, official_name=official_name
        ),
        "official_name": official_name,
        "topics": [x for x in all_topics if x.get("active", True)],
        "topic_names": {x["_id"]: x for x in all_topics},
        "may_subject": account.may_act_on(case),
        "may_note": True,
    }
