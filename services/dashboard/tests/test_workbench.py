"""The officials' workbench over HTTP, with routing, the gateway and the notifier real (one
`dialog run`): who is asking, search, topics, templates, drafts, notes."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from bson import json_util
from pymongo import AsyncMongoClient

from .conftest import Appeal, Browser, Dialog, eventually, logged_in, make_appeal

NAME = "Айгүл Серікқызы Нұрланова"
IIN = "900101400013"
OTHER_NAME = "Ерлан Бекұлы Тоқтаров"
OTHER_IIN = "850615300129"
OTHER_PHONE = "+7 705 111 22 33"


async def shown_in_inbox(b: Browser, appeal: Appeal, text: str) -> None:
    async def there() -> bool:
        page = (await b.get("/dashboard/inbox")).text
        row = re.search(rf'<tr data-appeal="{appeal.appeal_id}".*?</tr>', page, re.S)
        return bool(row and text in row.group(0))

    await eventually(there)


async def test_the_citizen_is_named_and_the_iin_revealed_only_with_an_audit_entry(
    dialog: Dialog, browser: Callable[[], Browser], http: httpx.AsyncClient, videos: dict[str, Path]
) -> None:
    login = dialog.user("wb-housing", "official", "deputy-housing")
    appeal = await make_appeal(dialog, http, videos["appeal"])
    b = await logged_in(browser, login)
    await shown_in_inbox(b, appeal, NAME)
    # The video's length (6 s) is on the row, so triage needs no click.
    await shown_in_inbox(b, appeal, "0:06")

    page = (await b.get(f"/dashboard/cases/{appeal.appeal_id}")).text
    assert NAME in page
    assert "•••• •••• ••13" in page and IIN not in page
    assert await dialog.audit(action="iin_reveal", appeal_id=appeal.appeal_id) == []

    revealed = await b.post(f"/dashboard/cases/{appeal.appeal_id}/iin")
    assert revealed.status_code == 200 and IIN in revealed.text
    [entry] = await dialog.audit(action="iin_reveal", appeal_id=appeal.appeal_id)
    assert entry["login"] == login and entry["role"] == "official"

    # Another official neither sees the case nor can reveal anything of it.
    other = await logged_in(browser, dialog.user("wb-social", "official", "deputy-social"))
    await other.get("/dashboard/inbox")
    refused = await other.post(f"/dashboard/cases/{appeal.appeal_id}/iin")
    assert refused.status_code == 404 and IIN not in refused.text
    assert len(await dialog.audit(action="iin_reveal", appeal_id=appeal.appeal_id)) == 1


async def test_name_and_iin_are_in_no_other_database_and_no_log_line(
    dialog: Dialog, http: httpx.AsyncClient, videos: dict[str, Path]
) -> None:
    appeal = await make_appeal(
        dialog, http, videos["appeal"], full_name="Зәуреш Әсетқызы Оспанбекова", iin="920312400556"
    )
    secrets = ("Оспанбекова", "Зәуреш", "920312400556")
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(dialog.mongo_url, tz_aware=True)
    try:

        async def in_the_dashboard() -> bool:
            found = await client["dialog_dashboard"].case_index.find_one({"_id": appeal.appeal_id})
            return bool(found and found.get("iin") == "920312400556")

        await eventually(in_the_dashboard)
        # The gateway took them at the booth (and keeps them); the dashboard is told. Nobody else.
        holders = set()
        for name in await client.list_database_names():
            for collection in await client[name].list_collection_names():
                async for doc in client[name][collection].find({}):
                    text = json_util.dumps(doc, ensure_ascii=False)
                    if any(s in text for s in secrets):
                        holders.add(name)
        assert holders == {"dialog_kiosk_gateway", "dialog_dashboard"}
    finally:
        await client.close()
    assert dialog.runner.process is not None
    log = dialog.runner.process.log.read_text(encoding="utf-8", errors="replace")
    assert appeal.appeal_id in log or log  # the log is there and being written
    for s in secrets:
        assert s not in log


async def test_search_by_number_name_phone_and_iin_within_ones_own_cases(
    dialog: Dialog, browser: Callable[[], Browser], http: httpx.AsyncClient, videos: dict[str, Path]
) -> None:
    housing = await logged_in(browser, dialog.user("wb-housing", "official", "deputy-housing"))
    social = await logged_in(browser, dialog.user("wb-social", "official", "deputy-social"))
    control = await logged_in(browser, dialog.user("wb-control", "controller"))
    mine = await make_appeal(dialog, http, videos["appeal"])
    theirs = await make_appeal(
        dialog,
        http,
        videos["appeal"],
        official_id="deputy-social",
        full_name=OTHER_NAME,
        iin=OTHER_IIN,
        phone=OTHER_PHONE,
    )

    async def found(b: Browser, q: str) -> list[str]:
        r = await b.get("/dashboard/search", params={"q": q})
        assert r.status_code == 200, r.text
        return re.findall(r'<tr data-appeal="([0-9a-f]+)"', r.text)

    number = mine.registration_number
    await eventually(lambda: _has(found(housing, IIN), mine.appeal_id))
    for q in (
        number,
        number.replace("-", ""),
        f" {number.replace('-', ' ')} ",
        "Нурланова",  # the Russian spelling finds the Kazakh one
        "нұрланова",
        "Айгуль",
        "АЙГҮЛ",
        "5678",  # the last digits of +7 701 234 56 78
        "2345678",
        IIN,
    ):
        assert mine.appeal_id in await found(housing, q), q
    # Another official's case is not found by anything, not even its own number.
    for q in (theirs.registration_number, "Тоқтаров", "Токтаров", "2233", OTHER_IIN):
        assert await found(housing, q) == [], q
        assert theirs.appeal_id in await found(social, q), q
        assert theirs.appeal_id in await found(control, q), q
    assert mine.appeal_id in await found(control, "Нурланова")

    # A mistyped check digit: the nearest valid numbers of one's own cases are offered.
    digits = number.replace("-", "")
    wrong = digits[:10] + str((int(digits[10]) + 1) % 10)
    r = await housing.get("/dashboard/search", params={"q": wrong})
    assert r.status_code == 200
    assert f">{number}</a>" in r.text and 'class="suggestion"' in r.text
    other_digits = theirs.registration_number.replace("-", "")
    other_wrong = other_digits[:10] + str((int(other_digits[10]) + 1) % 10)
    r = await housing.get("/dashboard/search", params={"q": other_wrong})
    assert theirs.registration_number not in r.text

    # What cannot be searched says so, in the page's language.
    short = await housing.get("/dashboard/search", params={"q": "56"})
    assert short.status_code == 422 and 'id="search-problem"' in short.text
    admin = await logged_in(browser, dialog.user("wb-admin", "admin"))
    assert (await admin.get("/dashboard/search", params={"q": "x"})).status_code == 404


async def _has(coro: Any, appeal_id: str) -> bool:
    return appeal_id in await coro


async def test_topics_templates_drafts_notes_and_a_forward(
    dialog: Dialog, browser: Callable[[], Browser], http: httpx.AsyncClient, videos: dict[str, Path]
) -> None:
    admin = await logged_in(browser, dialog.user("wb-admin", "admin"))
    await admin.get("/dashboard/admin/topics")
    r = await admin.post("/dashboard/admin/topics", {"id": "roads", "kk": "Жолдар", "ru": "Дороги"})
    assert r.status_code == 303, r.text
    bad = await admin.post("/dashboard/admin/topics", {"id": "Roads!", "kk": "x", "ru": "y"})
    assert bad.status_code == 422

    control = await logged_in(browser, dialog.user("wb-control", "controller"))
    await control.get("/dashboard/templates")
    template = {
        "id": "thanks",
        "title": "Алғыс / Благодарность",
        "department": "",
        "kk": "Құрметті {citizen_name}! {number} өтінішіңіз бойынша {control_date} дейін. "
        "{official_name}",
        "ru": "Уважаемый(ая) {citizen_name}! По обращению {number} до {control_date}. "
        "{official_name}",
    }
    assert (await control.post("/dashboard/templates", template)).status_code == 303
    wrong = {**template, "id": "bad", "kk": "Құрметті {name}!"}
    refused = await control.post("/dashboard/templates", wrong)
    assert refused.status_code == 422
    assert "bad" not in (await control.get("/dashboard/templates")).text.split('data-template="')

    appeal = await make_appeal(dialog, http, videos["appeal"], language="kk")
    housing = await logged_in(browser, dialog.user("wb-housing", "official", "deputy-housing"))
    await shown_in_inbox(housing, appeal, NAME)
    page = (await housing.get(f"/dashboard/cases/{appeal.appeal_id}")).text
    case = await dialog.case(http, appeal.appeal_id)
    control_date = ".".join(reversed(case["control_date"].split("-")))
    option = re.search(r'<option value="thanks" data-text="([^"]*)"', page)
    assert option, page
    filled = option.group(1)
    assert f"Құрметті {NAME}!" in filled and appeal.registration_number in filled
    assert control_date in filled and "{" not in filled

    # The subject: a topic from the list and a one-line summary, on the row and in the filter.
    r = await housing.post(
        f"/dashboard/cases/{appeal.appeal_id}/subject",
        {"topic": "roads", "summary": "Аула жолы жөнделмеген"},
    )
    assert r.status_code == 303, r.text
    unknown = await housing.post(
        f"/dashboard/cases/{appeal.appeal_id}/subject", {"topic": "nope", "summary": ""}
    )
    assert unknown.status_code == 422
    rows = (await housing.get("/dashboard/inbox", params={"topic": "roads"})).text
    assert appeal.appeal_id in rows and "Аула жолы жөнделмеген" in rows and "Жолдар" in rows
    stats = (await control.get("/dashboard/control/stats")).text
    assert re.search(r'data-row="roads">\s*<td>Жолдар</td>\s*<td class="num">1</td>', stats)
    exported = (await control.get("/dashboard/control/export.csv", params={"topic": "roads"})).text
    table = list(csv.DictReader(io.StringIO(exported.lstrip("\ufeff"))))
    assert [row for row in table if "Жолдар" in row.values()]

    # The draft is saved as typed, kept across a reload and a forward.
    await housing.get(f"/dashboard/cases/{appeal.appeal_id}")
    draft = "Құрметті Айгүл! Жоба мәтіні…"
    saved = await housing.client.put(
        f"/dashboard/cases/{appeal.appeal_id}/draft.json",
        content=json.dumps({"text": draft}),
        headers={"X-CSRF-Token": housing.csrf(), "Content-Type": "application/json"},
    )
    assert saved.status_code == 200, saved.text
    no_csrf = await housing.client.put(
        f"/dashboard/cases/{appeal.appeal_id}/draft.json", json={"text": "other"}
    )
    assert no_csrf.status_code == 403
    assert draft in (await housing.get(f"/dashboard/cases/{appeal.appeal_id}")).text

    # A note for the next handler, then the forward.
    r = await housing.post(
        f"/dashboard/cases/{appeal.appeal_id}/notes", {"note": "Әлеуметтік бөлімге қатысты"}
    )
    assert r.status_code == 303
    assert (
        await housing.post(f"/dashboard/cases/{appeal.appeal_id}/notes", {"note": " "})
    ).status_code == 422
    await housing.get(f"/dashboard/cases/{appeal.appeal_id}")
    r = await housing.post(
        f"/dashboard/cases/{appeal.appeal_id}/forward",
        {"to_official_id": "deputy-social", "reason": "Құзыретіне жатады"},
    )
    assert r.status_code == 303, r.text
    social = await logged_in(browser, dialog.user("wb-social", "official", "deputy-social"))
    page = (await social.get(f"/dashboard/cases/{appeal.appeal_id}")).text
    assert draft in page
    assert "Әлеуметтік бөлімге қатысты" in page and 'class="what-note"' in page
    [note] = await dialog.audit(action="note", appeal_id=appeal.appeal_id)
    assert note["login"] == "wb-housing"

    # After the forward the first official finds the case no more.
    async def gone() -> bool:
        r = await housing.get("/dashboard/search", params={"q": appeal.registration_number})
        return appeal.appeal_id not in r.text

    await eventually(gone)
    # The note is internal: the citizen's look-up shows no trace of it.
    looked = await http.post(
        f"{dialog.url}/api/v1/answers/lookup",
        json={"registration_number": appeal.registration_number, "access_code": appeal.access_code},
    )
    assert "Әлеуметтік бөлімге" not in looked.text

    # The answer removes the draft.
    await social.post(f"/dashboard/cases/{appeal.appeal_id}/answer", {"text": "Жауап."})
    page = (await social.get(f"/dashboard/cases/{appeal.appeal_id}")).text
    assert draft not in page


async def test_new_since_the_last_visit_and_the_overdue_badge(
    dialog: Dialog, browser: Callable[[], Browser], http: httpx.AsyncClient, videos: dict[str, Path]
) -> None:
    # Last in this module: it moves the module's clock.
    akim = await logged_in(browser, dialog.user("wb-akim", "official", "akim"))
    seen = await make_appeal(dialog, http, videos["appeal"], official_id="akim")
    await akim.get("/dashboard/inbox")  # the last visit: `seen` was there, `later` not yet
    later = await make_appeal(dialog, http, videos["appeal"], official_id="akim")

    def row(page: str, appeal: Appeal) -> str:
        found = re.search(rf'<tr data-appeal="{appeal.appeal_id}"[^>]*>', page)
        assert found, page
        return found.group(0)

    dialog.runner.move_clock(timedelta(minutes=31))  # a new sitting
    page = (await akim.get("/dashboard/inbox")).text
    assert "is-unseen" in row(page, later) and "is-unseen" not in row(page, seen)
    page = (await akim.get("/dashboard/inbox")).text  # a reload within the sitting keeps it
    assert "is-unseen" in row(page, later) and "is-unseen" not in row(page, seen)

    # Past its control date an unopened case says overdue, not new.
    dialog.runner.move_clock(timedelta(days=20))
    akim = await logged_in(browser, "wb-akim")  # the idle session has long ended
    page = (await akim.get("/dashboard/inbox")).text
    cell = re.search(rf'<tr data-appeal="{later.appeal_id}".*?</td>\s*<td>(.*?)</td>', page, re.S)
    assert cell and 'class="badge overdue"' in cell.group(1), page
