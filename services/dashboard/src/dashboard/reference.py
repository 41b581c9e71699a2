"""The reference desk's entries: written by the control office and the admin, published to the
booth through the outbox, each change kept in the entry's history (who, when, what).

An entry is a draft until published; only a published entry's text leaves the dashboard
(`ReferenceEntryChanged.entry` is None otherwise), so withdrawing one takes it off the booth
and /help. An official may turn one of their answers into a draft: what identifies the citizen
is removed first (`scrub`), and the control office edits it before it is published.
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from dialog_contracts import ReferenceContent, ReferenceEntryChanged, richtext
from dialog_platform.outbox import Pending
from dialog_platform.textfold import WORD, fold, words

from . import audit
from . import repository as repo
from .models import Account
from .service import Dashboard
from .workbench import Rejected, topics

Json = dict[str, Any]
ENTRY_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
MANAGERS = ("controller", "admin")
LANGS = ("kk", "ru")
TEXTS = {"question": 300, "answer": richtext.MAX_CHARS, "documents": richtext.MAX_CHARS}
PLACE_TEXTS = {"office": 200, "address": 300, "hours": 200}
FIELDS = ("topic", *TEXTS, "place", "service_url", "officials", "departments")
PHONE = re.compile(r"^[+\d][\d ()-]{2,38}$")
URL = re.compile(r"^https://[^\s<>\"']{1,500}$")
# Digits that could be a number, an IIN, a phone or an access code; an e-mail address.
_DIGITS = re.compile(r"\+?\d[\d\s()-]{2,}\d")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
REMOVED = "…"
DEMO_FLAG = "demo_reference"


def _loc(kk: str, ru: str) -> Json:
    return {"kk": kk.strip(), "ru": ru.strip()}


def entry_from_form(form: Any) -> Json:
    """An entry's fields as the form gives them; checked by `check`."""

    def get(name: str) -> str:
        return str(form.get(name) or "")

    return {
        "topic": get("topic").strip() or None,
        **{name: _loc(get(f"{name}_kk"), get(f"{name}_ru")) for name in TEXTS},
        "place": {
            **{name: _loc(get(f"{name}_kk"), get(f"{name}_ru")) for name in PLACE_TEXTS},
            "phone": get("phone").strip(),
        },
        "service_url": get("service_url").strip() or None,
        "officials": sorted({w for w in re.split(r"[\s,]+", get("officials")) if w}),
        "departments": sorted({d.strip() for d in get("departments").split("\n") if d.strip()}),
    }


async def check(dash: Dashboard, fields: Json, *, complete: bool) -> Json:
    return check_with(fields, {t["_id"] for t in await topics(dash)}, complete=complete)


def check_with(fields: Json, known_topics: set[str], *, complete: bool) -> Json:
    """Bad input raises `Rejected` naming the field; `complete`: as a published entry needs."""
    for name, limit in TEXTS.items():
        for lang in LANGS:
            if len(fields[name][lang]) > limit:
                raise Rejected("reference_too_long", f"{name}_{lang}")
    for name, limit in PLACE_TEXTS.items():
        for lang in LANGS:
            if len(fields["place"][name][lang]) > limit:
                raise Rejected("reference_too_long", f"{name}_{lang}")
    phone = fields["place"]["phone"]
    if phone and not PHONE.fullmatch(phone):
        raise Rejected("reference_phone_invalid", "phone")
    if fields["service_url"] and not URL.fullmatch(fields["service_url"]):
        raise Rejected("reference_url_invalid", "service_url")
    if fields["topic"] and fields["topic"] not in known_topics:
        raise Rejected("topic_unknown", "topic")
    if len(fields["officials"]) > 50 or len(fields["departments"]) > 50:
        raise Rejected("reference_too_long", "officials")
    if complete:
        for name in ("question", "answer"):
            for lang in LANGS:
                if not fields[name][lang]:
                    raise Rejected("reference_incomplete", f"{name}_{lang}")
    elif not any(fields["question"][lang] for lang in LANGS):
        raise Rejected("reference_question_required", "question_kk")
    return fields


def _both_or_none(value: Json) -> Json | None:
    # A text given in one language only is shown in that one on both sides rather than lost.
    if not value["kk"] and not value["ru"]:
        return None
    return {"kk": value["kk"] or value["ru"], "ru": value["ru"] or value["kk"]}


def content(doc: Json, names: dict[str, Json]) -> ReferenceContent:
    topic = names.get(doc.get("topic") or "")
    place = doc.get("place") or {}
    where = {k: _both_or_none(place[k]) for k in PLACE_TEXTS if k in place}
    if place.get("phone"):
        where["phone"] = place["phone"]
    return ReferenceContent.model_validate(
        {
            "topic": doc.get("topic"),
            "topic_name": {"kk": topic["kk"], "ru": topic["ru"]} if topic else None,
            "question": doc["question"],
            "answer": doc["answer"],
            "documents": _both_or_none(doc["documents"]),
            "place": where if any(where.values()) else None,
            "service_url": doc.get("service_url"),
            "officials": doc.get("officials", []),
            "departments": doc.get("departments", []),
        }
    )


def event_of(doc: Json, names: dict[str, Json]) -> ReferenceEntryChanged:
    published = doc["state"] == "published"
    return ReferenceEntryChanged(
        entry_id=doc["_id"],
        version=doc["version"],
        entry=content(doc, names) if published else None,
    )


async def _write(
    dash: Dashboard,
    account: Account | None,
    *,
    entry_id: str,
    fields: Json | None,
    state: str | None,
    action: str,
    ip: str | None,
    create: bool = False,
    expected: int | None = None,
) -> Json:
    """One change: the entry, its history line, the audit line and the event, together."""
    now = dash.clock()
    login = account.login if account else "system"
    names = {t["_id"]: t for t in await topics(dash)}
    col = dash.db.reference_entries
    # Read before the transaction, which starts with the guarded write (written so when the
    # embedded server split a transaction whose first read found no collection yet, now patched
    # in embedded.patches.transactions_start_first). The version in the write's filter keeps the
    # read-then-write safe against a concurrent change.
    old = await col.find_one({"_id": entry_id})
    if create and old is not None:
        raise Rejected("reference_exists", "id")
    if not create and old is None:
        raise Rejected("not_found")
    if expected is not None and old is not None and old["version"] != expected:
        raise Rejected("reference_outdated")
    base = old or {"_id": entry_id, "version": 0, "state": "draft", "created_at": now}
    new = {**base, **(fields or {}), "updated_at": now, "updated_by": login}
    if state:
        new["state"] = state
    if new["state"] == "published":
        check_with({k: new[k] for k in FIELDS}, set(names), complete=True)
    new["version"] = base["version"] + 1
    changed = [k for k in (*FIELDS, "state") if (old or {}).get(k) != new.get(k)]
    if old is not None and not changed:
        return old

    async def save(tx: Pending) -> Json:
        if old is None:
            await col.insert_one(new, session=tx.session)
        else:
            done = await col.replace_one(
                {"_id": entry_id, "version": old["version"]}, new, session=tx.session
            )
            if done.matched_count != 1:
                raise Rejected("reference_outdated")
        await dash.db.reference_history.insert_one(
            {
                "_id": f"{entry_id}-{new['version']}",
                "entry_id": entry_id,
                "version": new["version"],
                "at": now,
                "by": login,
                "action": action,
                "changed": changed,
                "before": {k: (old or {}).get(k) for k in changed},
            },
            session=tx.session,
        )
        await audit.record(
            dash.db,
            at=now,
            action=f"reference_{action}",
            login=login,
            account=account,
            detail={"entry": entry_id, "version": new["version"]},
            ip=ip,
            session=tx.session,
        )
        tx.add(event_of(new, names))
        return new

    try:
        return await dash.outbox.run(save)
    except DuplicateKeyError as exc:
        raise Rejected("reference_exists", "id") from exc


async def save(
    dash: Dashboard,
    account: Account,
    *,
    entry_id: str,
    fields: Json,
    ip: str,
    version: int | None = None,
) -> Json:
    """A new entry (no `version`; an id left blank is made up) or an edit of `version`."""
    new = version is None
    if new:
        entry_id = entry_id.strip() or f"e-{secrets.token_hex(4)}"
        if not ENTRY_ID.fullmatch(entry_id):
            raise Rejected("reference_id_invalid", "id")
    await check(dash, fields, complete=False)
    return await _write(
        dash,
        account,
        entry_id=entry_id,
        fields=fields,
        state=None,
        action="create" if new else "edit",
        ip=ip,
        create=new,
        expected=version,
    )


async def set_state(
    dash: Dashboard, account: Account, *, entry_id: str, published: bool, ip: str
) -> Json:
    return await _write(
        dash,
        account,
        entry_id=entry_id,
        fields=None,
        state="published" if published else "draft",
        action="publish" if published else "unpublish",
        ip=ip,
    )


async def get(dash: Dashboard, entry_id: str) -> Json | None:
    return await dash.db.reference_entries.find_one({"_id": entry_id})


async def entries(dash: Dashboard) -> list[Json]:
    cursor = dash.db.reference_entries.find({}, sort=[("updated_at", DESCENDING)])
    return [e async for e in cursor]


async def history(dash: Dashboard, entry_id: str) -> list[Json]:
    cursor = dash.db.reference_history.find({"entry_id": entry_id}, sort=[("version", DESCENDING)])
    return [h async for h in cursor]


async def snapshot(dash: Dashboard) -> list[Json]:
    names = {t["_id"]: t for t in await topics(dash)}
    cursor = dash.db.reference_entries.find({}, sort=[("_id", ASCENDING)])
    return [event_of(e, names).model_dump(mode="json") async for e in cursor]


# A draft from an answer


def scrub(text: str, *, names: list[str], numbers: list[str]) -> str:
    """The text without what identifies the citizen: their name's words, their number, IIN
    and phone, and any other run of digits or e-mail address that could."""
    for number in sorted({n for n in numbers if n}, key=len, reverse=True):
        text = text.replace(number, REMOVED)
    text = _EMAIL.sub(REMOVED, text)
    text = _DIGITS.sub(lambda m: REMOVED if len(re.sub(r"\D", "", m.group(0))) >= 4 else m[0], text)
    if names:
        wanted = {fold(n) for n in names if len(n) > 1}
        text = WORD.sub(lambda m: REMOVED if fold(m.group(0)) in wanted else m.group(0), text)
    return re.sub(rf"(?:{re.escape(REMOVED)}\s*)+", REMOVED + " ", text).strip()


async def draft_from_answer(
    dash: Dashboard, account: Account, case: Json, answer: Json, *, ip: str
) -> Json:
    found = await repo.get_case_file(dash.db, appeal_id=case["appeal_id"]) or {}
    names = words(found.get("full_name"))
    numbers = [
        case.get("registration_number") or "",
        str(found.get("iin") or ""),
        str(found.get("phone") or "").lstrip("+"),
    ]
    lang = "kk" if case.get("language") == "kk" else "ru"
    text = scrub(answer["text"], names=names, numbers=numbers)
    summary = scrub(str(case.get("summary") or ""), names=names, numbers=numbers)
    empty = _loc("", "")
    fields = {
        "topic": case.get("topic") or None,
        "question": {**empty, lang: summary or "?"},
        "answer": {**empty, lang: text},
        "documents": empty,
        "place": {**{k: empty for k in PLACE_TEXTS}, "phone": ""},
        "service_url": None,
        "officials": [case["official_id"]],
        "departments": [],
    }
    return await _write(
        dash,
        account,
        entry_id=f"e-{secrets.token_hex(4)}",
        fields=fields,
        state=None,
        action="from_answer",
        ip=ip,
        create=True,
    )


# The development demo set


async def seed_demo(dash: Dashboard) -> int:
    """Fictional topics and published entries, once, for a development start."""
    if await repo.get_flag(dash.db, name=DEMO_FLAG):
        return 0
    data = json.loads((Path(__file__).parent / "seed" / "reference.json").read_text("utf-8"))
    known = {t["_id"] for t in await topics(dash)}
    for n, topic in enumerate(data["topics"]):
        if topic["_id"] not in known:
            await repo.put_topic(dash.db, topic={**topic, "active": True, "order": 100 + n})
    made = 0
    for raw in data["entries"]:
        empty = _loc("", "")
        place = raw.get("place") or {}
        fields = {
            "topic": raw.get("topic"),
            "question": raw["question"],
            "answer": raw["answer"],
            "documents": raw.get("documents") or empty,
            "place": {
                **{k: place.get(k) or empty for k in PLACE_TEXTS},
                "phone": place.get("phone", ""),
            },
            "service_url": raw.get("service_url"),
            "officials": raw.get("officials", []),
            "departments": raw.get("departments", []),
        }
        if await get(dash, raw["_id"]) is None:
            await _write(
                dash,
                None,
                entry_id=raw["_id"],
                fields=fields,
                state="published",
                action="create",
                ip=None,
                create=True,
            )
            made += 1
    await repo.set_flag(dash.db, name=DEMO_FLAG, at=dash.clock())
    return made
