"""The booth for everyone, in Chromium at 1080×1920 by touch: axe-core finds nothing serious on
any screen in either language, in normal and larger text; larger text lays every screen out
again (no text overlaps another or is cut off, no box touches another), and every screen of the
way, its errors and dialogs included, still fits the screen without scrolling in larger text and
high contrast (a long list in a window of its own, «more below» under it while there is; the
receipt's number on one line), under a top bar that keeps to two rows; high contrast turns the
top bar black like the page; the next citizen finds the whole page, top bar included, in the
booth's language again, in normal text and colours."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from kiosk_gateway.messages import MESSAGES

from ..conftest import BASE_S, EXTENSION_S, IDLE_CONFIRM_S, IDLE_S, Booth
from ..test_booth_api import registered
from .conftest import Kiosk, axe, layout_problems, open_kiosk
from .test_answer import answer, video_bytes
from .test_booth import booth_text, fill_identity, record, walk_to_record

pytestmark = pytest.mark.browser
__all__ = ["video_bytes"]  # the answer's tests' fixture, for an answer to look up

SHOWN = "[data-screen]:not([hidden]), .bar, .overlay:not([hidden])"

# A screen (or a dialog, or the top bar) as a citizen sees it: does it scroll, and where is each
# of its parts (the whole box, and the text in it, and how many lines that text takes), its size
# and its letters' size, whether it is a box of its own (a button, a coloured line, the camera's
# picture) and in which other parts it lies; what is really at the middle of it (not the top
# bar, say). A part in a list that scrolls inside the screen (the officials, a long answer) is
# measured with the list scrolled to it, and the list's window kept: that is where it is seen.
# Each list that scrolls, as it is first seen: how far it is scrolled, and whether "more below"
# is shown under it.
_SCREEN = """([root, selector]) => {
  const screen = document.querySelector(
    /^[#.]/.test(root) ? root : `[data-screen="${root}"]`);
  const bar = document.querySelector(".bar").getBoundingClientRect();
  const scrolls = (el) => el.scrollHeight > el.clientHeight + 1
    && ["auto", "scroll"].includes(getComputedStyle(el).overflowY);
  const edges = (r) => [r.left, r.top, r.right, r.bottom];
  const boxed = (s) => s.backgroundColor !== "rgba(0, 0, 0, 0)"
    || ["Top", "Right", "Bottom", "Left"].some((side) => parseFloat(s[`border${side}Width`]));
  const windows = [...screen.querySelectorAll("*")].filter((el) => el.checkVisibility()
    && ["auto", "scroll"].includes(getComputedStyle(el).overflowY));
  const more = (el) => el.nextElementSibling?.matches(".more-below")
    && el.nextElementSibling.checkVisibility({ visibilityProperty: true });
  const scrolled = windows.map((el) => ({
    name: el.id ? `#${el.id}` : `.${el.classList[0]}`,
    overflows: scrolls(el),
    end: el.scrollTop >= el.scrollHeight - el.clientHeight - 2,
    cue: Boolean(more(el)),
  }));
  const lists = new Map();
  const parts = [];
  const els = [];
  for (const el of screen.querySelectorAll(selector)) {
    if (!el.checkVisibility()) continue;
    // An empty line (no error, no status yet) is nothing to see.
    if (!el.textContent.trim() && !el.matches("button, .stage, .progress")) continue;
    let list = null;
    for (let a = el.parentElement; a && a !== screen; a = a.parentElement) {
      if (scrolls(a)) { list = a; break; }
    }
    if (list) {
      if (!lists.has(list)) lists.set(list, list.scrollTop);
      list.scrollTop += el.getBoundingClientRect().top - list.getBoundingClientRect().top;
    }
    const box = el.getBoundingClientRect();
    const range = document.createRange();
    range.selectNodeContents(el);
    const text = range.getBoundingClientRect();
    const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.bottom))).size;
    const x = (box.left + box.right) / 2, y = (box.top + box.bottom) / 2;
    const hit = document.elementFromPoint(x, y);
    const name = `${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 24)}"`;
    const style = getComputedStyle(el);
    parts.push({
      name,
      // What the part is whatever it says (a timer's text changes).
      key: el.id ? `${el.tagName.toLowerCase()}#${el.id}` : name,
      id: el.id,
      box: edges(box),
      // No text (a picture), or text read by scrolling its own box (a long answer).
      text: text.width && text.height && !scrolls(el) ? edges(text) : null,
      list: list && edges(list.getBoundingClientRect()),
      // How far its list was scrolled to it: where it lies in the list, not on the glass.
      scrolled: list ? list.scrollTop : 0,
      boxed: boxed(style),
      within: els.flatMap((other, i) => (other.contains(el) ? [i] : [])),
      lines,
      width: box.width,
      height: box.height,
      font: parseFloat(style.fontSize),
      seen: el.contains(hit),
    });
    els.push(el);
  }
  for (const [list, top] of lists) list.scrollTop = top;
  const page = document.documentElement;
  return {
    scrolls: screen.scrollHeight > screen.clientHeight || page.scrollHeight > innerHeight,
    // A dialog covers the top bar too; a screen lies under it.
    top: screen.closest("main") ? bar.bottom : 0,
    bottom: innerHeight,
    right: innerWidth,
    box: edges(screen.getBoundingClientRect()),
    parts,
    lists: scrolled,
  };
}"""
START_PARTS = "h1, p, button"
RECEIPT_PARTS = "h1, p, button, .ticket, .ticket > span"


async def measure(page: Any, screen: str, parts: str) -> dict[str, Any]:
    return dict(await page.evaluate(_SCREEN, [screen, parts]))


def off_screen(seen: dict[str, Any]) -> list[str]:
    """What of a screen the citizen cannot see without scrolling, or not at all. A part of a
    list that scrolls inside the screen must be seen whole in the list's window, scrolled to."""
    problems = ["the screen scrolls"] if seen["scrolls"] else []
    screen = [0, seen["top"], seen["right"], seen["bottom"]]
    for part in seen["parts"]:
        if part["list"]:
            if outside(part["list"], screen):
                problems.append(f"{part['name']}: its list is off the screen or under the bar")
            if outside(part["box"], part["list"]):
                problems.append(f"{part['name']}: not seen whole in its list, scrolled to")
        for what in ("box", "text"):
            if part[what] is None or part["list"]:
                continue
            left, top, right, bottom = part[what]
            if top < seen["top"] - 1 or bottom > seen["bottom"] + 1:
                problems.append(f"{part['name']}: its {what} is off the screen or under the bar")
            elif left < -1 or right > seen["right"] + 1:
                problems.append(f"{part['name']}: its {what} is off the screen's side")
        if part["text"] is not None and outside(part["text"], part["box"]):
            problems.append(f"{part['name']}: its text spills out of it")
        if not part["seen"]:
            problems.append(f"{part['name']}: something else covers it")
    return problems


# Closer than this, two boxes (or a text and a box) read as one: the error line on the
# operator's yellow box. A field's label is 5.6 px above its field, a key 6 px from the next.
MIN_GAP_PX = 4


def touching(seen: dict[str, Any]) -> list[str]:
    """Parts of a screen, one of them a box of its own (a button, a coloured line, the camera's
    picture), that touch or overlap, side by side or one above the other: not one inside the
    other, nor in different windows (a list that scrolls and what is around it)."""
    problems = []
    parts = seen["parts"]
    for i, a in enumerate(parts):
        for b in parts[i + 1 :]:
            if not (a["boxed"] or b["boxed"]) or i in b["within"] or a["list"] != b["list"]:
                continue
            (al, at, ar, ab), (bl, bt, br, bb) = a["box"], b["box"]
            at, ab = at + a["scrolled"], ab + a["scrolled"]
            bt, bb = bt + b["scrolled"], bb + b["scrolled"]
            across = min(ar, br) - max(al, bl)
            down = min(ab, bb) - max(at, bt)
            if across > 1:
                gap = -down
            elif down > 1:
                gap = -across
            else:
                continue
            if gap < MIN_GAP_PX:
                problems.append(f"{a['name']} and {b['name']} touch: {round(gap)} px apart")
    return problems


def unsigned_lists(seen: dict[str, Any]) -> list[str]:
    """A list that scrolls inside the screen shows "more below" while there is more of it below,
    and only then."""
    problems = []
    for window in seen["lists"]:
        more = window["overflows"] and not window["end"]
        if more and not window["cue"]:
            problems.append(f"{window['name']}: more of it below, and nothing says so")
        elif window["cue"] and not more:
            problems.append(f"{window['name']}: says there is more below, with none")
    return problems


def outside(inner: list[float], outer: list[float]) -> bool:
    """Whether a box (left, top, right, bottom) reaches out of another by more than a pixel."""
    return (
        inner[0] < outer[0] - 1
        or inner[1] < outer[1] - 1
        or inner[2] > outer[2] + 1
        or inner[3] > outer[3] + 1
    )


def did_not_grow(normal: dict[str, Any], larger: dict[str, Any], *, bar: bool = False) -> list[str]:
    """In larger text every part of a screen is still there, its letters larger than before,
    and no button smaller. In the top bar (`bar`), which hardly grows, no letters smaller."""
    keys = [[part["key"] for part in seen["parts"]] for seen in (normal, larger)]
    if keys[0] != keys[1]:
        return [f"other parts: {keys[0]} then {keys[1]}"]
    problems = []
    for before, after in zip(normal["parts"], larger["parts"], strict=True):
        if after["font"] < before["font"] or (after["font"] == before["font"] and not bar):
            problems.append(f"{before['name']}: letters not larger, {after['font']} px")
        # Not shorter, nor narrower but by the few pixels the screen's margins grow by (the
        # top bar's do not grow).
        size = (before["width"], before["height"], after["width"], after["height"])
        if before["name"].startswith("button") and (
            size[3] < size[1] - 1 or size[2] < size[0] * (1 if bar else 0.95)
        ):
            problems.append(f"{before['name']}: smaller, %dx%d -> %dx%d" % size)
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
        assert not did_not_grow(normal, larger), (look, did_not_grow(normal, larger))
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


# Every part of a screen a citizen reads or presses: titles, texts, list items, labels and
# buttons (the keyboards' keys among them), the camera's picture with the countdown and the
# timer, the progress bar. Not the officials' topics, which fold away behind a button of their
# own in larger text (test_every_booth_screen_is_accessible_in_normal_and_larger_text), nor
# "more below", there in one look and not in another as the list's window grows or shrinks
# (`unsigned_lists` has a rule of its own for it).
PARTS = (
    "h1, h2, p, li, dt, dd, .label, button:not(.chip, .filters-toggle, .more-below), "
    ".stage, .countdown, .timer, .progress"
)
DIALOG_PARTS = "h1, p, button"
BAR_PARTS = ".brand, button"
LOOKS = ("normal", "larger", "contrast-larger")
# The top bar, its voice off: the service's name over one row of buttons 80 px tall, in every
# look, under a tenth of the screen. Grown with larger text it took three rows, 290 px.
MAX_BAR_PX = 180


def bar_height(bar: dict[str, Any]) -> float:
    return float(bar["box"][3] - bar["box"][1])


class Walk:
    """One citizen's way through the booth, each screen on it seen in normal text, in larger
    text and in larger text with high contrast: what of it does not fit the screen
    (`off_screen`), text that overlaps another or is cut off, and (`did_not_grow`) a part whose
    letters are not larger in larger text or a button that is smaller; two parts that touch
    (`touching`), a list that scrolls with no sign of it (`unsigned_lists`); the top bar taller
    than MAX_BAR_PX, or in larger text with smaller letters or buttons than in normal text;
    with screenshots. The page's clock stands still but where the walk moves it on, so a
    countdown or a timer waits to be measured and the idle question comes only when asked
    for."""

    def __init__(self, kiosk: Kiosk, lang: str) -> None:
        self.kiosk = kiosk
        self.lang = lang
        self.measured: dict[str, dict[str, dict[str, Any]]] = {}
        self.bars: dict[str, dict[str, dict[str, Any]]] = {}
        self.problems: dict[str, list[str]] = {}

    async def stop_the_clock(self) -> None:
        now_ms = await self.kiosk.page.evaluate("Date.now()")
        await self.kiosk.page.clock.pause_at(now_ms / 1000 + 1)

    async def look(self, look: str) -> None:
        """Larger text and high contrast as `look` has them, pressed in the top bar."""
        for button, on in (("#larger", look != "normal"), ("#contrast", look == "contrast-larger")):
            pressed = await self.kiosk.page.locator(button).get_attribute("aria-pressed")
            if (pressed == "true") != on:
                await self.kiosk.tap(button)

    async def seen(
        self, name: str, look: str, root: str, parts: str = PARTS, *, bar: bool = True
    ) -> None:
        """The screen (or dialog) `root` as it is now, in `look`; with the top bar, unless a
        dialog covers it."""
        page = self.kiosk.page
        await self.kiosk.shot(f"access-walk-{self.lang}-{look}-{name}")
        measured = self.measured.setdefault(name, {})[look] = await measure(page, root, parts)
        problems = off_screen(measured) + touching(measured) + unsigned_lists(measured)
        if bar:
            top = self.bars.setdefault(name, {})[look] = await measure(page, ".bar", BAR_PARTS)
            problems += off_screen(top) + touching(top)
            if bar_height(top) > MAX_BAR_PX:
                problems.append(f"the top bar is {bar_height(top):.0f} px tall")
        if problems := problems + await layout_problems(page, SHOWN):
            self.problems[f"{name}/{look}"] = problems

    async def screen(self, name: str, root: str, parts: str = PARTS) -> None:
        """The screen in each look, switched in the top bar; back to normal after."""
        for look in LOOKS:
            await self.look(look)
            await self.seen(name, look, root, parts)
        await self.look("normal")

    async def dialog(self, name: str, root: str, open_it: Any, close: str) -> None:
        """A dialog over the screen (and over the top bar): opened in each look."""
        for look in LOOKS:
            await self.look(look)
            await open_it()
            await self.kiosk.page.locator(root).wait_for(state="visible")
            await self.seen(name, look, root, DIALOG_PARTS, bar=False)
            await self.kiosk.tap(close)
        await self.look("normal")

    def report(self) -> list[str]:
        lines = [f"{name}: {problem}" for name, ps in self.problems.items() for problem in ps]
        for name, looks in self.measured.items():
            assert set(looks) == set(LOOKS), (name, list(looks))
            for look in LOOKS[1:]:
                grew = did_not_grow(looks["normal"], looks[look])
                lines += [f"{name}/{look}: {problem}" for problem in grew]
        for name, bars in self.bars.items():
            for look in LOOKS[1:]:
                kept = did_not_grow(bars["normal"], bars[look], bar=True)
                lines += [f"{name}/{look}: top bar {problem}" for problem in kept]
        return lines


async def _held(release: asyncio.Event, route: Any, *, spoil: bool = True) -> None:
    """The recording's upload, held until released, then sent as what is not a video (or as
    it was)."""
    await release.wait()
    await route.continue_(post_data=b"not a video" if spoil else None)


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_every_booth_screen_fits_in_larger_text_and_high_contrast(
    browser: Any, booth: Booth, http: httpx.AsyncClient, video_bytes: bytes, lang: str
) -> None:
    """A citizen who sees poorly turns larger text on, and high contrast too, on any screen of
    the way, its errors and dialogs included: every title, text, field, key and button is on
    the screen at once (a list that does not fit scrolls in its own window, each item seen whole
    in it, «more below» under it), none under the top bar or covered, no text over another or
    out of its box, no box touching another, all of it larger than before and no button
    smaller; the top bar no taller than MAX_BAR_PX, nothing in it smaller than before."""
    answered = await registered(booth, http, video_bytes, language=lang)
    await answer(booth, http, answered, video_bytes)
    kiosk = await open_kiosk(browser, booth, clock=True)
    page = kiosk.page
    walk = Walk(kiosk, lang)
    await walk.stop_the_clock()

    await kiosk.tap(f'[data-action="lang"][data-value="{lang}"]')
    await kiosk.screen("consent")
    await walk.screen("consent", "consent")
    await walk.dialog(
        "idle", "#idle", lambda: page.clock.run_for((IDLE_S + 1) * 1000), "#idle-stay"
    )
    await kiosk.tap("#agree")
    await kiosk.screen("category")
    await walk.screen("category", "category")
    await kiosk.tap('[data-action="category"][data-value="question"]')
    await kiosk.screen("officials")
    await page.locator(".card").first.wait_for()
    await walk.screen("officials", "officials")
    await kiosk.tap('.card[data-official="deputy-housing"]')
    await kiosk.screen("suggest")
    await walk.screen("suggest", "suggest")
    await kiosk.tap("#suggest-record")
    await kiosk.screen("identity")
    # Pressed on empty: every field says what is wrong with it.
    await kiosk.tap("#identity-next")
    await page.locator("#error-phone:not(:empty)").wait_for()
    await walk.screen("identity-errors", "identity")
    await fill_identity(kiosk, lang)
    await walk.screen("identity-phone-keypad", "identity")
    await walk.dialog("to-start-asks", "#confirm-home", lambda: kiosk.tap("#home"), "#confirm-no")
    await kiosk.tap("#identity-next")
    await kiosk.screen("record")
    await page.locator("#record-start").wait_for(state="visible")
    await walk.screen("record-ready", "record")

    # Larger text cannot be pressed while the camera records: each look its own recording.
    for look in LOOKS:
        await walk.look(look)
        await kiosk.tap("#record-start")
        await page.locator("#countdown").wait_for(state="visible")
        await walk.seen("record-countdown", look, "record")
        await page.clock.run_for(3_500)
        await page.locator("#rec-badge").wait_for(state="visible")
        await walk.seen("recording", look, "record")
        await page.clock.run_for(int((BASE_S - 2) * 1000))
        await page.locator("#record-extend").wait_for(state="visible")
        await walk.seen("recording-offer", look, "record")
        await kiosk.tap("#record-extend")
        await page.locator("#extended").wait_for(state="visible")
        await walk.seen("recording-extended", look, "record")
        await asyncio.sleep(1)  # a second of video, really recorded
        await page.clock.run_for(int((EXTENSION_S + 3) * 1000))
        await kiosk.screen("review")
        await page.locator("#record-limit").wait_for(state="visible")
        await walk.seen("review-at-the-limit", look, "review")
        if look != LOOKS[-1]:
            await kiosk.tap("#review-again")
            await page.locator("#record-start").wait_for(state="visible")
    await walk.look("normal")

    release = asyncio.Event()
    await page.route("**/video", lambda route: _held(release, route))
    await kiosk.tap("#review-send")
    await kiosk.screen("upload")
    await walk.screen("upload", "upload")
    release.set()
    await page.locator("#upload-failed").wait_for(state="visible", timeout=30_000)
    await walk.screen("upload-failed", "upload")
    # Failed, the screen no longer says it is sending; tried again, it does.
    sending = ("#upload-wait", "#screen-upload .progress", "#progress-text")
    assert await kiosk.text("#upload-title") == booth_text(lang, "upload_failed_title")
    assert not [s for s in sending if await page.locator(s).is_visible()]
    # The server's reason explains the general line, so it comes under it.
    general = await page.locator("#upload-failed .error").bounding_box()
    reason = page.locator("#upload-reason")
    said = await reason.bounding_box()
    kk, ru = MESSAGES["video_not_webm"]
    assert await kiosk.text("#upload-reason") == (kk if lang == "kk" else ru)
    assert general is not None and said is not None
    assert said["y"] >= general["y"] + general["height"]
    await page.unroute("**/video")
    retried = asyncio.Event()
    await page.route("**/video", lambda route: _held(retried, route, spoil=False))
    await kiosk.tap("#upload-retry")
    await page.locator("#upload-failed").wait_for(state="hidden")
    assert await kiosk.text("#upload-title") == booth_text(lang, "upload_title")
    assert not await reason.is_visible()
    assert [s for s in sending if await page.locator(s).is_visible()] == list(sending)
    retried.set()
    await kiosk.screen("receipt", timeout=60_000)
    number = (await kiosk.text("#receipt-number")).replace("-", "")
    await kiosk.tap('[data-screen="receipt"] [data-action="home"]')
    await kiosk.screen("start")

    await kiosk.tap(f'[data-action="lookup"][data-value="{lang}"]')
    await kiosk.screen("lookup")
    await walk.screen("lookup", "lookup")
    # Wrong codes for the number until the booth is locked out of it: the operator is called.
    await kiosk.type("#lookup-keyboard", number)
    for _ in range(8):
        await kiosk.tap('[data-focus="code"]')
        await kiosk.tap_key("#lookup-keyboard", "clear")
        await kiosk.type("#lookup-keyboard", "12345678")
        async with page.expect_response("**/api/v1/answers/lookup"):
            await kiosk.tap("#lookup-show")
        await page.locator("#lookup-error:not([hidden])").wait_for()
        if await page.locator("#lookup-locked").is_visible():
            break
        if _ == 0:
            await walk.screen("lookup-wrong-code", "lookup")
    assert await page.locator("#lookup-locked").is_visible()
    await walk.screen("lookup-locked", "lookup")

    # The answer, text and video, with «did it help?» under it.
    await kiosk.tap('[data-focus="number"]')
    await kiosk.tap_key("#lookup-keyboard", "clear")
    await kiosk.type("#lookup-keyboard", answered["registration_number"].replace("-", ""))
    await kiosk.tap('[data-focus="code"]')
    await kiosk.tap_key("#lookup-keyboard", "clear")
    await kiosk.type("#lookup-keyboard", answered["access_code"])
    await kiosk.tap("#lookup-show")
    await kiosk.screen("result")
    await page.locator("#answer-video-box").wait_for(state="visible")
    await walk.screen("result-answered", "result")
    for look, seen in walk.measured["result-answered"].items():
        [title] = [part for part in seen["parts"] if part["id"] == "result-title"]
        assert title["lines"] == 1, (look, title)  # the number in one piece
    await kiosk.tap("#rate-no")
    await page.locator("#rating-reasons").wait_for(state="visible")
    await walk.screen("result-why-not", "result")
    await page.context.close()

    print("\n".join(walk.report()))
    assert not walk.report(), "\n".join(walk.report())


# With the voice on, the volume's two buttons join the name of the service in the top bar's
# first row: two rows of buttons 80 px tall. Grown with larger text it took four rows in Russian.
MAX_BAR_VOICE_PX = 230


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_the_top_bar_keeps_to_two_rows_in_larger_text_with_the_voice_on(
    browser: Any, booth: Booth, lang: str
) -> None:
    """A citizen who sees poorly turns the voice on, then larger text and high contrast: the top
    bar, every button in it ("to the start", the volume, the three toggles), keeps to two rows,
    nothing in it cut off or over another, its letters and buttons no smaller than in normal
    text."""
    kiosk = await open_kiosk(browser, booth)
    page = kiosk.page
    await kiosk.tap(f'[data-action="lang"][data-value="{lang}"]')
    await kiosk.screen("consent")
    await kiosk.tap("#audio")  # the voice's own buttons are pressed at the first touch
    await page.locator("#volume").wait_for(state="visible")
    normal = await measure(page, ".bar", BAR_PARTS)
    for toggle in ("#larger", "#contrast"):
        # With the voice on, the first touch says the button, the second presses it.
        for _ in range(2):
            await kiosk.tap(toggle)
            await asyncio.sleep(0.15)
        await page.locator(f"{toggle}[aria-pressed=true]").wait_for(state="attached")
        await kiosk.shot(f"access-{lang}-voice-{toggle[1:]}-bar")
        bar = await measure(page, ".bar", BAR_PARTS)
        assert len(bar["parts"]) == 7, [part["name"] for part in bar["parts"]]
        assert bar_height(bar) <= MAX_BAR_VOICE_PX, (toggle, bar_height(bar))
        problems = off_screen(bar) + touching(bar) + did_not_grow(normal, bar, bar=True)
        assert not problems + await layout_problems(page, ".bar"), (toggle, problems)
    await page.context.close()


# The answer's list as the citizen sees it: its window, where "more below" is and whether it is
# shown, the rating (the list's last part) and its last button, and whether that button is what
# a finger at its middle touches.
_ANSWER = """() => {
  const list = document.querySelector("#screen-result .result-body");
  const cue = document.querySelector("#screen-result .more-below");
  const edges = (el) => ((r) => [r.left, r.top, r.right, r.bottom])(el.getBoundingClientRect());
  const last = document.getElementById("rate-no").getBoundingClientRect();
  const hit = document.elementFromPoint((last.left + last.right) / 2, (last.top + last.bottom) / 2);
  return {
    list: edges(list),
    top: list.scrollTop,
    cue: cue.checkVisibility({ visibilityProperty: true }) ? edges(cue) : null,
    rating: edges(document.getElementById("rating")),
    last: [last.left, last.top, last.right, last.bottom],
    touched: hit?.id ?? null,
  };
}"""


async def _swipe(kiosk: Kiosk, window: list[float], up: bool) -> None:
    """A finger drawn slowly up (or down) the list's window, as a citizen scrolls it, and held
    still before it is lifted, so the list does not glide on."""
    cdp = await kiosk.page.context.new_cdp_session(kiosk.page)
    x, y = window[0] + 60, (window[1] + window[3]) / 2
    path = [y + (-i if up else i) * 40 for i in range(11)]
    for kind, at in [("touchStart", path[0])] + [("touchMove", at) for at in path[1:]]:
        await cdp.send(
            "Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": at}]}
        )
        await asyncio.sleep(0.03)
    await asyncio.sleep(0.2)
    await cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    await cdp.detach()


async def _look_up(kiosk: Kiosk, lang: str, receipt: dict[str, Any]) -> None:
    await kiosk.tap(f'[data-action="lookup"][data-value="{lang}"]')
    await kiosk.screen("lookup")
    digits = receipt["registration_number"].replace("-", "") + receipt["access_code"]
    await kiosk.type("#lookup-keyboard", digits)
    await kiosk.tap("#lookup-show")
    await kiosk.screen("result")


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_more_below_shows_under_the_answer_until_its_end(
    browser: Any, booth: Booth, http: httpx.AsyncClient, video_bytes: bytes, lang: str
) -> None:
    """In larger text the answer (its dates, text, video and «did it help?») is longer than its
    window: «more below» says so under it, covering none of it, and the voice says it with the
    screen. Touched, it scrolls the list on until the rating's last button is seen whole, and is
    gone; a finger scrolls the list back and it is there again, and on to the end again. An
    appeal not answered yet fits its window: nothing says there is more. A finger drawn up
    from the cue scrolls the list too, and the next citizen finds the list at its top."""
    answered = await registered(booth, http, video_bytes, language=lang)
    await answer(booth, http, answered, video_bytes)
    waiting = await registered(booth, http, video_bytes, language=lang)
    kiosk = await open_kiosk(browser, booth)
    page = kiosk.page
    cue = page.locator("#screen-result .more-below")
    await kiosk.tap("#larger")
    await _look_up(kiosk, lang, answered)
    await page.locator("#answer-video-box").wait_for(state="visible")
    await cue.wait_for(state="visible")
    await kiosk.shot(f"access-{lang}-larger-more-below")
    seen = await page.evaluate(_ANSWER)
    assert await cue.inner_text() == booth_text(lang, "more_below")
    assert seen["cue"][1] >= seen["list"][3], seen  # under the window, not over it
    assert seen["rating"][3] > seen["list"][3] + 1, seen  # there is more, really

    # Read with the screen when the voice is turned on, then the voice off again.
    async with page.expect_request(f"**/kiosk/speech/{lang}/more_below.wav", timeout=120_000):
        await kiosk.tap("#audio")
    await kiosk.tap("#audio")

    async def to_the_end(move: Any) -> dict[str, Any]:
        for _ in range(10):
            if await cue.is_hidden():
                break
            await move()
            await asyncio.sleep(1)  # the list glides, it does not jump
        seen = await page.evaluate(_ANSWER)
        assert seen["cue"] is None, seen
        assert not outside(seen["rating"], seen["list"]), seen
        assert seen["touched"] == "rate-no", seen
        return seen

    at_end = await to_the_end(cue.tap)
    await kiosk.shot(f"access-{lang}-larger-more-below-end")
    for _ in range(10):
        if (await page.evaluate(_ANSWER))["top"] == 0:
            break
        await _swipe(kiosk, at_end["list"], up=False)
    await cue.wait_for(state="visible")
    # A finger that lands on the cue and is drawn up scrolls the list as on the list itself.
    await _swipe(kiosk, seen["cue"], up=True)
    assert (await page.evaluate(_ANSWER))["top"] >= 300
    await to_the_end(lambda: _swipe(kiosk, at_end["list"], up=True))

    # The next citizen finds the answer's list at its top, the cue under it, not at the end
    # where the last one left it.
    await kiosk.tap('[data-screen="result"] [data-action="home"]')
    await kiosk.screen("start")
    await kiosk.tap("#larger")
    await _look_up(kiosk, lang, answered)
    await page.locator("#answer-video-box").wait_for(state="visible")
    await cue.wait_for(state="visible")
    assert (await page.evaluate(_ANSWER))["top"] == 0
    await kiosk.tap('[data-screen="result"] [data-action="home"]')
    await kiosk.screen("start")
    await kiosk.tap("#larger")
    await _look_up(kiosk, lang, waiting)
    await kiosk.shot(f"access-{lang}-larger-more-below-none")
    assert await cue.is_hidden()
    assert await page.locator(".result-body").evaluate("(el) => el.scrollHeight <= el.clientHeight")
    await page.context.close()
