"""In Chromium: an official searches by a name in its Russian spelling, walks the results with
the keyboard, inserts a template at the cursor, finds the draft after a reload, previews the
answer as the citizen will see it and confirms it. Screenshots under
test-output/screenshots/dashboard/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import Browser, Dialog, eventually, logged_in, make_appeal
from .test_browser import SHOTS, log_in, page, until

pytestmark = pytest.mark.browser
__all__ = ["page"]  # the fixture, used by name


async def test_search_shortcuts_template_draft_preview_and_confirm(
    dialog: Dialog,
    page: Any,
    browser: Callable[[], Browser],
    http: httpx.AsyncClient,
    videos: dict[str, Path],
) -> None:
    login = dialog.user("bw-housing", "official", "deputy-housing")
    control = await logged_in(browser, dialog.user("bw-control", "controller"))
    await control.get("/dashboard/templates")
    added = await control.post(
        "/dashboard/templates",
        {
            "id": "received",
            "title": "Қабылданды / Принято",
            "department": "",
            "kk": "Құрметті {citizen_name}! {number} өтінішіңіз қаралуда.",
            "ru": "Уважаемый(ая) {citizen_name}! Обращение {number} рассматривается.",
        },
    )
    assert added.status_code == 303
    first = await make_appeal(dialog, http, videos["appeal"], language="kk")
    second = await make_appeal(
        dialog, http, videos["appeal"], language="kk", phone="+7 707 555 44 33"
    )

    await log_in(page, dialog, login)
    await page.goto(f"{dialog.url}/dashboard/inbox")

    async def named() -> bool:
        await page.reload()
        return await page.locator("span.citizen", has_text="Нұрланова").count() >= 2

    await eventually(named)

    # "/" goes to the search box; the Russian spelling finds the Kazakh one.
    await page.keyboard.press("/")
    assert await page.evaluate("document.activeElement.id") == "search-box"
    await page.keyboard.type("Нурланова")
    await page.keyboard.press("Enter")
    await page.wait_for_load_state("networkidle")
    rows = page.locator("#results tr[data-appeal]")
    assert await rows.count() == 2
    await page.screenshot(path=SHOTS / "20-search-results.png", full_page=True)

    # "?" lists the shortcuts (Esc first: the search box still has the focus).
    await page.keyboard.press("Escape")
    await page.keyboard.press("?")
    assert await page.locator("#shortcuts").is_visible()
    await page.screenshot(path=SHOTS / "21-shortcuts.png")
    await page.keyboard.press("Escape")
    assert not await page.locator("#shortcuts").is_visible()

    # j selects the first row, Enter opens it, n and p walk the result list.
    ids = [await rows.nth(i).get_attribute("data-appeal") for i in range(2)]
    await page.keyboard.press("j")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"**/dashboard/cases/{ids[0]}")
    assert await page.locator("#list-position").inner_text() == "1 / 2"
    await page.keyboard.press("n")
    await page.wait_for_url(f"**/dashboard/cases/{ids[1]}")
    await page.keyboard.press("p")
    await page.wait_for_url(f"**/dashboard/cases/{ids[0]}")
    opened = first if ids[0] == first.appeal_id else second

    # A template goes in at the cursor, its placeholders filled for this case.
    text = page.locator("#answer-text")
    await text.fill("Басы. Соңы.")
    await text.evaluate("el => el.setSelectionRange(6, 6)")
    await page.select_option("#template-pick", "received")
    await page.click("#template-insert")
    expected = (
        f"Басы. Құрметті Айгүл Серікқызы Нұрланова! {opened.registration_number} "
        "өтінішіңіз қаралуда.Соңы."
    )
    assert await text.input_value() == expected
    await until(page, "document.getElementById('draft-status').textContent.length > 0")
    await page.screenshot(path=SHOTS / "22-case-template-inserted.png", full_page=True)

    # The draft was saved as it was typed: a reload keeps it.
    await page.reload()
    assert await page.locator("#answer-text").input_value() == expected

    # The preview shows exactly the text the citizen will read; only the confirmation sends it.
    await page.click("#answer-submit")
    await page.locator("#answer-preview[open]").wait_for()
    assert await page.locator("#preview-text").inner_text() == expected
    await page.screenshot(path=SHOTS / "23-answer-preview.png")
    nothing_yet = await dialog.internal_answers(http, opened.appeal_id)
    assert nothing_yet.status_code == 404  # no answer before the confirmation
    await page.click("#answer-confirm")
    await page.wait_for_load_state("networkidle")
    await page.locator("article.answer").wait_for()
    assert expected in await page.locator("article.answer .answer-text").inner_text()
