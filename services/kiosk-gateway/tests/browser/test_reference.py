"""The booth's reference desk in Chromium at 1080×1920 by touch, both languages: topics, a word
typed on the screen's keyboard (Kazakh and Russian spellings meet), an entry, printing it,
recording from it, the offer after choosing an official; and /help on a phone. Every new
screen is checked by axe and for overlapping or clipped text, in normal and larger text."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from kiosk_gateway.pages import catalogs

from ..conftest import Booth
from .conftest import SCREENSHOTS, Kiosk, axe, open_kiosk
from .test_access import Audit
from .test_voice import press, said

pytestmark = pytest.mark.browser
# What a citizen types: "кужат" without the Kazakh letters finds "құжат" (documents); a
# Russian word finds the Russian text.
WORDS = {"kk": ("КУЖАТ", "housing-queue-documents"), "ru": ("СПРАВК", "address-certificate")}


def text(lang: str, key: str) -> str:
    return catalogs()[lang][key]


def sheets(folder: Path) -> set[Path]:
    return set(folder.glob("ref-*.png")) if folder.exists() else set()


async def new_sheet(folder: Path, before: set[Path], timeout: float = 30) -> Path:
    deadline = time.monotonic() + timeout
    while not (found := sheets(folder) - before):
        assert time.monotonic() < deadline, "the entry was never printed"
        await asyncio.sleep(0.2)
    return found.pop()


async def walk(kiosk: Kiosk, booth: Booth, lang: str, audit: Audit) -> None:
    page = kiosk.page
    await kiosk.tap(f'[data-action="reference"][data-value="{lang}"]')
    await kiosk.screen("reference")
    await page.locator(".tile").first.wait_for()
    assert await kiosk.text("#screen-reference h1") == text(lang, "ref_title")
    await audit.both("40-reference")

    # Browse by topic: a large tile, then the questions of that topic.
    await kiosk.tap('.tile[data-topic="utilities"]')
    await page.locator('#ref-results [data-entry="address-certificate"]').wait_for(state="detached")
    assert await page.locator('#ref-results [data-entry="utilities-complaint"]').count() == 1
    await audit.both("41-reference-topic")

    # Find by a word typed on the screen's keyboard.
    word, expected = WORDS[lang]
    await kiosk.tap('[data-focus="refq"]')
    await page.locator("#ref-keyboard").wait_for(state="visible")
    await kiosk.type("#ref-keyboard", word)
    await audit.both("42-reference-typing")
    await kiosk.tap("#ref-find")
    await page.locator("#ref-keyboard").wait_for(state="hidden")
    await page.locator(f'#ref-results [data-entry="{expected}"]').wait_for()
    await audit.both("43-reference-found")
    # A word nothing answers: said so, and counted for the akimat.
    await kiosk.tap('[data-focus="refq"]')
    for _ in word:
        await kiosk.tap_key("#ref-keyboard", "back")
    await kiosk.type("#ref-keyboard", "ЖЖЖЖ")
    await kiosk.tap("#ref-find")
    await page.locator("#ref-nothing").wait_for(state="visible")
    await audit.one("44-reference-nothing", "normal")
    await kiosk.tap('[data-focus="refq"]')
    for _ in range(4):
        await kiosk.tap_key("#ref-keyboard", "back")
    await kiosk.type("#ref-keyboard", word)
    await kiosk.tap("#ref-find")

    # Open an entry: question, answer, documents, where to apply.
    await kiosk.tap(f'#ref-results [data-entry="{expected}"]')
    await kiosk.screen("entry")
    title = await kiosk.text("#entry-title")
    assert title and title in (await kiosk.text("#ref-entry"))
    assert await page.locator("#ref-entry").get_attribute("lang") == lang
    await audit.both("45-entry")
    # And white on black for a citizen who sees poorly.
    await kiosk.tap("#contrast")
    await audit.one("45-entry", "contrast")
    await kiosk.tap("#entry-back")
    await kiosk.screen("reference")
    await audit.one("43-reference-found", "contrast")
    await kiosk.tap(f'#ref-results [data-entry="{expected}"]')
    await kiosk.screen("entry")
    await kiosk.tap("#contrast")

    # Printed on the booth's receipt printer.
    before = sheets(booth.receipts)
    await kiosk.tap("#entry-print")
    await page.locator("#entry-print-status").filter(has_text=text(lang, "ref_printing")).wait_for()
    sheet = Image.open(await new_sheet(booth.receipts, before))
    assert sheet.width == 576 and sheet.height > 600

    # And on to record an appeal from it: the usual path, from the consent.
    await kiosk.tap("#entry-record")
    await kiosk.screen("consent")
    await kiosk.tap("#home")
    await kiosk.screen("start")

    # Choosing an official offers the entries about their area first.
    await kiosk.tap(f'[data-action="lang"][data-value="{lang}"]')
    await kiosk.tap("#agree")
    await kiosk.tap('[data-action="category"][data-value="question"]')
    await page.locator(".card").first.wait_for()
    await kiosk.tap('.card[data-official="deputy-housing"]')
    await kiosk.screen("suggest")
    assert await page.locator('#suggest-list [data-entry="housing-queue-documents"]').count() == 1
    await audit.both("46-suggest")
    await kiosk.tap('#suggest-list [data-entry="utilities-complaint"]')
    await kiosk.screen("entry")
    await kiosk.tap("#entry-record")
    await kiosk.screen("identity")


async def test_audio_mode_says_an_entry_whole(browser: Any, booth: Booth) -> None:
    """An entry is dynamic text: the page asks for the gateway's clip of it (speech.py)."""
    kiosk = await open_kiosk(browser, booth)
    await kiosk.tap("#audio-start")
    await press(kiosk, '[data-action="reference"][data-value="ru"]')
    entry = '#ref-results [data-entry="lost-receipt"]'
    await kiosk.page.locator(entry).wait_for()
    await press(kiosk, entry)
    await kiosk.screen("entry")
    await said(kiosk, "ru", "reference-lost-receipt")
    await kiosk.page.context.close()


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_the_booth_reference_desk_by_touch(browser: Any, booth: Booth, lang: str) -> None:
    kiosk = await open_kiosk(browser, booth)
    audit = Audit(kiosk, lang)
    await walk(kiosk, booth, lang, audit)
    await kiosk.page.context.close()
    print(audit.report())
    assert not audit.violations and not audit.layout, audit.report()


async def test_help_on_a_phone_lists_finds_and_shows_entries(browser: Any, booth: Booth) -> None:
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    page = await context.new_page()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    violations: dict[str, Any] = {}
    # The tracking page leads there.
    await page.goto(f"{booth.url}/track")
    await page.locator('a[href="/help"]').tap()
    await page.locator("#results li").first.wait_for()
    for lang in ("kk", "ru"):
        await page.goto(f"{booth.url}/help?lang={lang}")
        await page.locator("#results li").first.wait_for()
        assert await page.locator("h1").inner_text() == text(lang, "help_title")
        await page.screenshot(path=str(SCREENSHOTS / f"{lang}-50-help.png"), full_page=True)
        violations[f"{lang}/help"] = await axe(page)
        await page.locator("#q").fill("кужат")
        await page.locator("#search button[type=submit]").tap()
        await page.locator('#results a[href*="/help/housing-queue-documents"]').wait_for()
        await page.screenshot(path=str(SCREENSHOTS / f"{lang}-51-help-found.png"), full_page=True)
        await page.locator('#results a[href*="/help/housing-queue-documents"]').tap()
        await page.locator("#entry-title").wait_for()
        assert f"/help/housing-queue-documents?lang={lang}" in page.url
        await page.screenshot(path=str(SCREENSHOTS / f"{lang}-52-help-entry.png"), full_page=True)
        violations[f"{lang}/help-entry"] = await axe(page)
        # Nothing is wider than the phone.
        assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    await context.close()
    found = {name: v for name, v in violations.items() if v}
    assert not found, found
