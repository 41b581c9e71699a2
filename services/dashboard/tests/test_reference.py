"""The reference desk in the dashboard (one `dialog run`, so routing and the gateway are real):
entries written, edited with their history kept, published and withdrawn in both languages; a
draft made from an answer carries nothing of the citizen."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx

from .conftest import Browser, Dialog, eventually, logged_in, make_appeal

ENTRY = {
    "id": "passport-lost",
    "topic": "",
    "question_kk": "Төлқұжатты жоғалтсам не істеймін?",
    "question_ru": "Что делать, если потерян паспорт?",
    "answer_kk": "Полицияға **хабарлаңыз**.\n\n- жеке куәлік\n- фото",
    "answer_ru": "Сообщите в **полицию**.\n\n- удостоверение\n- фото <script>alert(1)</script>",
    "documents_kk": "",
    "documents_ru": "",
    "office_kk": "ХҚКО",
    "office_ru": "ЦОН",
    "address_kk": "",
    "address_ru": "",
    "hours_kk": "",
    "hours_ru": "",
    "phone": "+7 7232 00 00 02",
    "service_url": "https://egov.kz/cms/ru/services/passport",
    "officials": "deputy-security",
    "departments": "",
}


def state_of(page: str) -> str:
    found = re.search(r'<strong data-state="([a-z]+)"', page)
    assert found, page[:2000]
    return found.group(1)


async def test_an_entry_is_written_edited_published_and_withdrawn_with_its_history(
    dialog: Dialog, browser: Callable[[], Browser]
) -> None:
    b = await logged_in(browser, dialog.user("ref-control", "controller"))
    assert (await b.get("/dashboard/reference/new")).status_code == 200
    made = await b.post("/dashboard/reference/new", ENTRY)
    assert (
        made.status_code == 303 and made.headers["location"] == "/dashboard/reference/passport-lost"
    )
    page = (await b.get("/dashboard/reference/passport-lost")).text
    assert state_of(page) == "draft"
    # What an author typed as HTML is shown as text; the markup makes only bold and lists.
    assert "&lt;script&gt;" in page and "<script>alert" not in page
    assert "<strong>полицию</strong>" in page and "<li>фото" in page

    # Incomplete input is refused with the field named and nothing changed.
    bad = await b.post(
        "/dashboard/reference/passport-lost", {**ENTRY, "version": "1", "service_url": "http://x"}
    )
    assert bad.status_code == 422 and "https://" in bad.text
    # The form comes back with what was typed, the refused field marked.
    assert 'name="service_url" type="url" value="http://x"' in bad.text
    assert "Төлқұжатты жоғалтсам не істеймін?" in bad.text
    await b.get("/dashboard/reference/passport-lost")
    edited = await b.post(
        "/dashboard/reference/passport-lost",
        {**ENTRY, "version": "1", "answer_ru": "Сообщите в полицию и в ЦОН."},
    )
    assert edited.status_code == 303
    # A form from before the edit does not overwrite it.
    await b.get("/dashboard/reference/passport-lost")
    stale = await b.post("/dashboard/reference/passport-lost", {**ENTRY, "version": "1"})
    assert stale.status_code == 422

    await b.get("/dashboard/reference/passport-lost")
    published = await b.post("/dashboard/reference/passport-lost", {"action": "publish"})
    assert published.status_code == 303
    page = (await b.get("/dashboard/reference/passport-lost")).text
    assert state_of(page) == "published"
    history = re.findall(r'data-version="(\d+)" data-action="([a-z_]+)"', page)
    assert history == [("3", "publish"), ("2", "edit"), ("1", "create")]
    assert "ref-control" in page

    # The booth's copy and /help have it, in both languages, once published.
    async with httpx.AsyncClient(base_url=dialog.url, timeout=30) as web:

        async def on_help(present: bool) -> bool:
            r = await web.get("/help/passport-lost", params={"lang": "kk"})
            return (r.status_code == 200) is present

        await eventually(lambda: on_help(True))
        kk = (await web.get("/help/passport-lost", params={"lang": "kk"})).text
        ru = (await web.get("/help/passport-lost", params={"lang": "ru"})).text
        assert "Төлқұжатты жоғалтсам не істеймін?" in kk and "Полицияға" in kk
        assert "Сообщите в полицию и в ЦОН." in ru

        # Withdrawn, it leaves /help; the dashboard keeps it as a draft.
        await b.get("/dashboard/reference/passport-lost")
        await b.post("/dashboard/reference/passport-lost", {"action": "unpublish"})
        await eventually(lambda: on_help(False))
        assert "Төлқұжатты" not in (await web.get("/help", params={"lang": "kk"})).text
    page = (await b.get("/dashboard/reference/passport-lost")).text
    assert state_of(page) == "draft"
    [audit] = await dialog.audit(action="reference_unpublish")
    assert audit["login"] == "ref-control"

    # Publishing needs both languages.
    await b.get("/dashboard/reference/new")
    await b.post(
        "/dashboard/reference/new", {**ENTRY, "id": "kk-only", "question_ru": "", "answer_ru": ""}
    )
    await b.get("/dashboard/reference/kk-only")
    half = await b.post("/dashboard/reference/kk-only", {"action": "publish"})
    assert half.status_code == 422
    assert state_of((await b.get("/dashboard/reference/kk-only")).text) == "draft"

    # An official may not manage entries.
    official = await logged_in(browser, dialog.user("ref-official-x", "official", "deputy-social"))
    assert (await official.get("/dashboard/reference")).status_code == 404


async def test_a_draft_made_from_an_answer_carries_nothing_personal(
    dialog: Dialog, browser: Callable[[], Browser], http: httpx.AsyncClient, videos: dict[str, Path]
) -> None:
    appeal = await make_appeal(dialog, http, videos["appeal"], language="ru")
    b = await logged_in(browser, dialog.user("ref-housing", "official", "deputy-housing"))
    await b.get(f"/dashboard/cases/{appeal.appeal_id}")
    text = (
        f"Уважаемая Айгуль Нурланова! По обращению {appeal.registration_number} сообщаем: "
        "очередь на жильё ведёт управление. Ваш ИИН 900101400013 и телефон +7 701 234 56 78 "
        "в очереди указаны; пишите на aigul@example.kz."
    )
    answered = await b.post(f"/dashboard/cases/{appeal.appeal_id}/answer", {"text": text})
    assert answered.status_code == 303, answered.text
    page = (await b.get(f"/dashboard/cases/{appeal.appeal_id}")).text
    assert 'id="reference-draft"' in page
    drafted = await b.post(f"/dashboard/cases/{appeal.appeal_id}/reference-draft")
    assert drafted.status_code == 303
    assert "reference=drafted" in drafted.headers["location"]

    control = await logged_in(browser, dialog.user("ref-control", "controller"))
    listing = (await control.get("/dashboard/reference")).text
    ids = re.findall(r'data-entry="(e-[0-9a-f]+)" data-state="draft"', listing)
    assert ids
    page = (await control.get(f"/dashboard/reference/{ids[0]}")).text
    assert "очередь на жильё ведёт управление" in page
    for personal in (
        "Айгуль",
        "Нурланова",
        appeal.registration_number,
        "900101400013",
        "234 56 78",
        "aigul@example.kz",
    ):
        assert personal not in page, personal
    # Not published until the control office has edited it.
    assert state_of(page) == "draft"
    async with httpx.AsyncClient(base_url=dialog.url, timeout=30) as web:
        assert (await web.get(f"/help/{ids[0]}")).status_code == 404


async def test_views_empty_searches_and_appeals_after_a_view_are_in_the_statistics(
    dialog: Dialog, browser: Callable[[], Browser]
) -> None:
    token = dialog.runner.kiosk_add("ref-booth", "Демо ЦОН")
    booth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=dialog.url, timeout=30) as web:
        # The demo set reaches the gateway's copy; a Kazakh spelling finds a Russian one too.
        async def listed() -> bool:
            r = await web.get("/api/v1/reference", params={"q": "кужат"}, headers=booth)
            return any(e["id"] == "housing-queue-documents" for e in r.json()["entries"])

        await eventually(listed)
        for _ in range(3):
            assert (await web.get("/help/address-certificate")).status_code == 200
        opened = await web.get("/api/v1/reference/land-plot", headers=booth)
        assert opened.status_code == 200 and "<strong>" in opened.json()["answer_html"]["ru"]
        after = await web.post(
            "/api/v1/reference/recorded", json={"entries": ["land-plot"]}, headers=booth
        )
        assert after.status_code == 204
        nothing = await web.get("/help", params={"q": "верблюд", "lang": "ru"})
        assert nothing.status_code == 200
        assert (await web.get("/api/v1/reference", params={"q": "верблюд"}, headers=booth)).json()[
            "entries"
        ] == []
        too_long = await web.get("/api/v1/reference", params={"q": "я" * 101}, headers=booth)
        assert too_long.status_code == 422 and "100" in too_long.text

    b = await logged_in(browser, dialog.user("ref-control", "controller"))
    page = (await b.get("/dashboard/control/stats")).text
    row = re.search(r'<tr data-entry="address-certificate">.*?</tr>', page, re.S)
    assert row and 'data-views="3"' in row.group(0)
    row = re.search(r'<tr data-entry="land-plot">.*?</tr>', page, re.S)
    assert row and 'data-views="1"' in row.group(0) and 'data-recorded="1"' in row.group(0)
    misses = re.findall(r"<td data-miss>([^<]*)</td><td class=\"num\">(\d+)</td>", page)
    assert ("верблюд", "2") in misses
