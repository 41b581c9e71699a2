"""The booth for everyone, in Chromium at 1080×1920 by touch: axe-core finds nothing serious on
any screen in either language, in normal and larger text; larger text lays every screen out
again (no text overlaps another or is cut off); the next citizen gets normal text again."""

from __future__ import annotations

from typing import Any

import pytest

from ..conftest import IDLE_S, Booth
from .conftest import Kiosk, axe, layout_problems, open_kiosk
from .test_booth import fill_identity, record

pytestmark = pytest.mark.browser

SHOWN = "[data-screen]:not([hidden]), .bar, .overlay:not([hidden])"


class Audit:
    """axe and the layout of every screen it is shown, normal and larger, with screenshots."""

    def __init__(self, kiosk: Kiosk, lang: str) -> None:
        self.kiosk = kiosk
        self.lang = lang
        self.violations: dict[str, list[dict[str, Any]]] = {}
        self.layout: dict[str, list[str]] = {}
        self.seen: list[str] = []

    async def larger(self, on: bool) -> None:
        pressed = await self.kiosk.page.locator("#larger").get_attribute("aria-pressed")
        if (pressed == "true") != on:
            await self.kiosk.tap("#larger")

    async def one(self, name: str, size: str) -> None:
        page = f"{self.lang}/{size}/{name}"
        self.seen.append(page)
        await self.kiosk.shot(f"access-{self.lang}-{size}-{name}")
        if found := await axe(self.kiosk.page):
            self.violations[page] = found
        if problems := await layout_problems(self.kiosk.page, SHOWN):
            self.layout[page] = problems

    async def both(self, name: str) -> None:
        """Normal, then larger, then normal again (the citizen tried the button and went on)."""
        await self.one(name, "normal")
        await self.larger(True)
        await self.one(name, "larger")
        await self.larger(False)

    def report(self) -> str:
        lines = [f"{len(self.seen)} screens checked: {', '.join(self.seen)}"]
        for page, found in self.violations.items():
            for v in found:
                lines.append(f"axe {v['impact']} {v['id']} on {page}: {v['help']} {v['nodes']}")
        for page, problems in self.layout.items():
            lines += [f"layout on {page}: {p}" for p in problems]
        return "\n".join(lines)


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_every_booth_screen_is_accessible_in_normal_and_larger_text(
    browser: Any, booth: Booth, lang: str
) -> None:
    kiosk = await open_kiosk(browser, booth)
    audit = Audit(kiosk, lang)
    await audit.both("01-start")
    await kiosk.tap(f'[data-action="lang"][data-value="{lang}"]')
    await kiosk.screen("consent")
    await audit.both("02-consent")

    # "Still there?" in both sizes (consent is an ordinary screen: the usual idle time).
    for size in ("normal", "larger"):
        await audit.larger(size == "larger")
        await kiosk.page.locator("#idle").wait_for(state="visible", timeout=(IDLE_S + 3) * 1000)
        await audit.one("03-idle", size)
        await kiosk.tap("#idle-stay")
    await audit.larger(False)

    await kiosk.tap("#agree")
    await kiosk.screen("category")
    await audit.both("04-category")
    await kiosk.tap('[data-action="category"][data-value="question"]')
    await kiosk.screen("officials")
    await kiosk.page.locator(".card").first.wait_for()
    await audit.both("05-officials")
    # With larger text the topics fold behind one button; open, they still fit.
    await audit.larger(True)
    assert await kiosk.page.locator("#filters").is_hidden()
    await kiosk.tap("#filters-toggle")
    await kiosk.page.locator("#filters").wait_for(state="visible")
    await audit.one("06-officials-topics", "larger")
    await audit.larger(False)
    assert await kiosk.page.locator("#filters").is_visible()

    await kiosk.choose("deputy-housing")
    await audit.both("07-identity")
    await fill_identity(kiosk, lang)
    await audit.both("08-identity-filled")
    # "To the start" asks first, in both sizes.
    for size in ("normal", "larger"):
        await audit.larger(size == "larger")
        await kiosk.tap("#home")
        await kiosk.page.locator("#confirm-home").wait_for(state="visible")
        await audit.one("09-to-start-asks", size)
        await kiosk.tap("#confirm-no")
    await audit.larger(False)

    await kiosk.tap("#identity-next")
    await kiosk.screen("record")
    await kiosk.page.locator("#record-start").wait_for(state="visible")
    await audit.both("10-record")
    await record(kiosk, 2.0)
    await audit.both("11-review")
    await kiosk.tap("#review-send")
    await kiosk.screen("receipt", timeout=60_000)
    await kiosk.page.locator("#receipt-status.ok").wait_for(timeout=30_000)
    await audit.both("12-receipt")
    number = (await kiosk.text("#receipt-number")).replace("-", "")
    code = (await kiosk.text("#receipt-code")).replace(" ", "")

    # Larger text left on by this citizen is off for the next one.
    await audit.larger(True)
    await kiosk.tap('[data-screen="receipt"] [data-action="home"]')
    await kiosk.screen("start")
    assert await kiosk.page.locator("#larger").get_attribute("aria-pressed") == "false"
    assert not await kiosk.page.evaluate("document.documentElement.classList.contains('larger')")

    await kiosk.tap(f'[data-action="lookup"][data-value="{lang}"]')
    await kiosk.screen("lookup")
    await audit.both("13-lookup")
    await kiosk.type("#lookup-keyboard", number)
    await kiosk.tap('[data-focus="code"]')
    await kiosk.type("#lookup-keyboard", code)
    await kiosk.tap("#lookup-show")
    await kiosk.screen("result")
    await audit.both("14-result")
    await kiosk.page.context.close()

    print(audit.report())
    assert not audit.violations and not audit.layout, audit.report()


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_high_contrast_passes_axe_on_every_kind_of_screen_and_is_off_for_the_next_citizen(
    browser: Any, booth: Booth, lang: str
) -> None:
    kiosk = await open_kiosk(browser, booth)
    page = kiosk.page
    audit = Audit(kiosk, lang)
    await kiosk.tap("#contrast")
    assert await page.locator("#contrast").get_attribute("aria-pressed") == "true"
    # White on black, really.
    assert await page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(0, 0, 0)"
    await audit.one("01-start", "contrast")
    await kiosk.tap(f'[data-action="lang"][data-value="{lang}"]')
    await kiosk.screen("consent")
    await audit.one("02-consent", "contrast")
    await kiosk.tap("#agree")
    await kiosk.screen("category")
    await audit.one("04-category", "contrast")
    await kiosk.tap('[data-action="category"][data-value="question"]')
    await kiosk.screen("officials")
    await page.locator(".card").first.wait_for()
    await audit.one("05-officials", "contrast")
    await audit.larger(True)
    await audit.one("05-officials", "contrast-larger")
    await audit.larger(False)
    await kiosk.choose("deputy-housing")
    await fill_identity(kiosk, lang)
    await audit.one("08-identity-filled", "contrast")
    await kiosk.tap("#home")
    await page.locator("#confirm-home").wait_for(state="visible")
    await audit.one("09-to-start-asks", "contrast")
    await kiosk.tap("#confirm-no")
    await kiosk.tap("#identity-next")
    await kiosk.screen("record")
    await page.locator("#record-start").wait_for(state="visible")
    await audit.one("10-record", "contrast")
    await record(kiosk, 2.0)
    await audit.one("11-review", "contrast")

    # The next citizen finds the booth as the first one did.
    await kiosk.tap("#home")
    await page.locator("#confirm-home").wait_for(state="visible")
    await kiosk.tap("#confirm-yes")
    await kiosk.screen("start")
    assert await page.locator("#contrast").get_attribute("aria-pressed") == "false"
    assert await page.evaluate("getComputedStyle(document.body).backgroundColor") != "rgb(0, 0, 0)"
    await page.context.close()

    print(audit.report())
    assert not audit.violations and not audit.layout, audit.report()
