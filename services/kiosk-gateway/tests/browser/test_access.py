"""The booth for everyone, in Chromium at 1080×1920 by touch: axe-core finds nothing serious on
any screen in either language, in normal and larger text; larger text lays every screen out
again (no text overlaps another or is cut off), and the start screen and the receipt still fit
the screen without scrolling (the receipt's number on one line); high contrast turns the top
bar black like the page; the next citizen finds the whole page, top bar included, in the booth's
language again, in normal text and colours."""

from __future__ import annotations

from typing import Any

import pytest

from ..conftest import IDLE_CONFIRM_S, IDLE_S, Booth
from .conftest import Kiosk, axe, layout_problems, open_kiosk
from .test_booth import booth_text, fill_identity, record, walk_to_record

pytestmark = pytest.mark.browser

SHOWN = "[data-screen]:not([hidden]), .bar, .overlay:not([hidden])"

# A screen as a citizen sees it: does it scroll, and where is each of its parts (the whole box,
# and the text in it, and how many lines that text takes), its size and its letters' size; what
# is really at the middle of it (not the top bar, say).
_SCREEN = """([name, selector]) => {
  const screen = document.querySelector(`[data-screen="${name}"]`);
  const bar = document.querySelector(".bar").getBoundingClientRect();
  const parts = [];
  for (const el of screen.querySelectorAll(selector)) {
    if (!el.checkVisibility()) continue;
    const box = el.getBoundingClientRect();
    const range = document.createRange();
    range.selectNodeContents(el);
    const text = range.getBoundingClientRect();
    const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.bottom))).size;
    const x = (box.left + box.right) / 2, y = (box.top + box.bottom) / 2;
    const hit = document.elementFromPoint(x, y);
    parts.push({
      name: `${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 24)}"`,
      id: el.id,
      box: [box.left, box.top, box.right, box.bottom],
      text: [text.left, text.top, text.right, text.bottom],
      lines,
      width: box.width,
      height: box.height,
      font: parseFloat(getComputedStyle(el).fontSize),
      seen: el.contains(hit),
    });
  }
  const page = document.documentElement;
  return {
    scrolls: screen.scrollHeight > screen.clientHeight || page.scrollHeight > innerHeight,
    top: bar.bottom,
    bottom: innerHeight,
    right: innerWidth,
    parts,
  };
}"""
START_PARTS = "h1, p, button"
RECEIPT_PARTS = "h1, p, button, .ticket, .ticket > span"


async def measure(page: Any, screen: str, parts: str) -> dict[str, Any]:
    return dict(await page.evaluate(_SCREEN, [screen, parts]))


def off_screen(seen: dict[str, Any]) -> list[str]:
    """What of a screen the citizen cannot see without scrolling, or not at all."""
    problems = ["the screen scrolls"] if seen["scrolls"] else []
    for part in seen["parts"]:
        for what in ("box", "text"):
            left, top, right, bottom = part[what]
            if top < seen["top"] - 1 or bottom > seen["bottom"] + 1:
                problems.append(f"{part['name']}: its {what} is off the screen or under the bar")
            elif left < -1 or right > seen["right"] + 1:
                problems.append(f"{part['name']}: its {what} is off the screen's side")
        left, top, right, bottom = part["box"]
        tleft, ttop, tright, tbottom = part["text"]
        if tleft < left - 1 or ttop < top - 1 or tright > right + 1 or tbottom > bottom + 1:
            problems.append(f"{part['name']}: its text spills out of it")
        if not part["seen"]:
            problems.append(f"{part['name']}: something else covers it")
    return problems


async def fits_in_larger_text(
    kiosk: Kiosk, screen: str, parts: str, shot: str
) -> dict[str, dict[str, Any]]:
    """The screen as it is, then in larger text, then in larger text and high contrast: each
    fits the screen (`off_screen`), no text on it overlaps another, and in larger text each
    part's letters are larger than before and no button is smaller. Returns the two larger
    looks as measured; `shot` names their screenshots, with {look} for the look."""
    page = kiosk.page
    normal = await measure(page, screen, parts)
    assert not off_screen(normal), off_screen(normal)
    await kiosk.tap("#larger")
    looks = {}
    for look in ("larger", "contrast-larger"):
        if look == "contrast-larger":
            await kiosk.tap("#contrast")
        await kiosk.shot("access-" + shot.format(look=look))
        larger = looks[look] = await measure(page, screen, parts)
        problems = off_screen(larger) + await layout_problems(page, SHOWN)
        assert not problems, f"{look}: {problems}"
        assert [part["name"] for part in larger["parts"]] == [p["name"] for p in normal["parts"]]
        for before, after in zip(normal["parts"], larger["parts"], strict=True):
            assert after["font"] > before["font"], (look, before, after)
            if before["name"].startswith("button"):
                assert after["height"] >= before["height"] - 1, (look, before, after)
                assert after["width"] >= before["width"] - 1, (look, before, after)
    return looks


# How a button looks: what a citizen tells "pressed" and "not pressed" by.
_LOOK = "(el) => ((s) => [s.backgroundColor, s.color, s.borderTopColor])(getComputedStyle(el))"


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
async def test_the_start_screen_fits_the_screen_in_larger_text_without_scrolling(
    browser: Any, booth: Booth, lang: str
) -> None:
    """A citizen who sees poorly turns larger text on at the start: the titles, both languages,
    the answers, the questions and the voice guidance are all on the screen at once, none under
    the top bar, the text larger than before and no button smaller (the bar speaks the language
    of the citizen who chose one and came back, whose words are longer or shorter)."""
    kiosk = await open_kiosk(browser, booth)
    page = kiosk.page
    await kiosk.tap(f'[data-action="lang"][data-value="{lang}"]')
    await kiosk.screen("consent")
    await kiosk.tap('[data-screen="consent"] [data-action="back"]')
    await kiosk.screen("start")
    assert await page.evaluate("document.documentElement.lang") == lang

    looks = await fits_in_larger_text(kiosk, "start", START_PARTS, f"{lang}-{{look}}-start-fits")
    for look in looks.values():
        names = [part["name"] for part in look["parts"]]
        assert any('"Дауыстық көмекші' in name for name in names), names
    await page.context.close()


async def _printer_failed(route: Any) -> None:
    """The appeal's status as the booth polls it, with a printer that failed the receipt."""
    if route.request.method != "GET":
        return await route.fallback()
    response = await route.fetch()
    body = await response.json()
    body["receipt"] = {**(body.get("receipt") or {}), "status": "failed"}
    await route.fulfill(response=response, json=body)


@pytest.mark.parametrize("printer", ["printed", "failed"])
@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_the_receipt_fits_the_screen_in_larger_text_its_number_on_one_line(
    browser: Any, booth: Booth, lang: str, printer: str
) -> None:
    """A citizen who sees poorly writes the receipt down from the screen: in larger text (and
    high contrast) the number is one piece on one line, and it, the code, the date and «Done»
    are all on the screen at once, none under the top bar, the text larger than before and no
    button smaller; whether the printer printed the receipt or failed to (a longer message)."""
    kiosk = await open_kiosk(browser, booth)
    page = kiosk.page
    if printer == "failed":
        await page.route("**/api/v1/appeals/*", _printer_failed)
    await walk_to_record(kiosk, lang)
    await record(kiosk, 2.0)
    await kiosk.tap("#review-send")
    await kiosk.screen("receipt", timeout=60_000)
    said = "ok" if printer == "printed" else "error"
    await page.locator(f"#receipt-status.{said}").wait_for(timeout=30_000)

    shot = f"{lang}-{{look}}-receipt-{printer}"
    for name, look in (await fits_in_larger_text(kiosk, "receipt", RECEIPT_PARTS, shot)).items():
        [number] = [part for part in look["parts"] if part["id"] == "receipt-number"]
        assert number["lines"] == 1, (name, number)
    await page.context.close()


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
    # The top bar too, its buttons like the page's: yellow when pressed, white on black if not.
    bar = page.locator(".bar")
    assert (await bar.evaluate(_LOOK))[:2] == ["rgb(0, 0, 0)", "rgb(255, 255, 255)"]
    pressed = await page.locator(f'[data-action="lang"][data-value="{lang}"]').evaluate(_LOOK)
    unpressed = await page.locator(f'[data-action="lookup"][data-value="{lang}"]').evaluate(_LOOK)
    assert unpressed == ["rgb(0, 0, 0)", "rgb(255, 255, 255)", "rgb(255, 255, 255)"]
    assert (await page.locator("#contrast").evaluate(_LOOK))[:2] == pressed[:2]
    for toggle in ("#audio", "#larger"):
        assert await page.locator(toggle).evaluate(_LOOK) == unpressed, toggle
    await audit.one("01-start", "contrast")
    await kiosk.tap(f'[data-action="lang"][data-value="{lang}"]')
    await kiosk.screen("consent")
    await audit.one("02-consent", "contrast")
    assert await page.locator("#home").evaluate(_LOOK) == unpressed
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
    # The question stands out from the dimmed screen by a white edge, not by a shade of black.
    edge = "(el) => ((s) => [s.borderTopColor, s.borderTopWidth])(getComputedStyle(el))"
    color, width = await page.locator("#confirm-home .dialog").evaluate(edge)
    assert color == "rgb(255, 255, 255)" and float(width.removesuffix("px")) >= 3, (color, width)
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


# The page in the words and looks a citizen finds it in: its language, larger text and high
# contrast, and every text and label from the catalogs, the top bar's and the dialogs' included.
_PAGE = """() => ({
  lang: document.documentElement.lang,
  looks: document.documentElement.className,
  pressed: [...document.querySelectorAll(".bar [aria-pressed]")].map(
    (el) => `${el.id}=${el.getAttribute("aria-pressed")}`),
  texts: [...document.querySelectorAll("[data-i18n]")].map((el) => el.textContent),
  labels: [...document.querySelectorAll("[data-i18n-label]")].map((el) => el.ariaLabel),
})"""


@pytest.mark.parametrize("leave", ["done", "idle", "to the start"])
async def test_the_next_citizen_finds_the_whole_booth_as_the_first_one_did(
    browser: Any, booth: Booth, leave: str
) -> None:
    """A citizen chose Russian, larger text and high contrast, then took the receipt and pressed
    «Done», or walked away, or pressed «To the start»: the next one finds the whole page as the
    first citizen did, the top bar included, in the booth's language (not the last citizen's),
    normal text, no contrast."""
    kiosk = await open_kiosk(browser, booth)
    page = kiosk.page
    first = await page.evaluate(_PAGE)
    await kiosk.tap("#larger")
    await kiosk.tap("#contrast")
    if leave == "done":
        await walk_to_record(kiosk, "ru")
        await record(kiosk, 2.0)
        await kiosk.tap("#review-send")
        await kiosk.screen("receipt", timeout=60_000)
    else:
        await kiosk.tap('[data-action="lang"][data-value="ru"]')
        await kiosk.screen("consent")
    assert await kiosk.text("#home") == booth_text("ru", "to_start")
    if leave == "done":
        await kiosk.tap('[data-screen="receipt"] [data-action="home"]')
    elif leave == "idle":
        await page.locator("#idle").wait_for(state="visible", timeout=(IDLE_S + 3) * 1000)
    else:
        await kiosk.tap("#home")
    await kiosk.screen("start", timeout=(IDLE_CONFIRM_S + 3) * 1000)
    await kiosk.shot(f"access-next-citizen-after-{leave.replace(' ', '-')}")
    assert await page.evaluate(_PAGE) == first
    await page.context.close()
