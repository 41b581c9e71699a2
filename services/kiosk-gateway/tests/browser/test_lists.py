"""The booth's lists in Chromium at 1080×1920 by touch: where a citizen finds them.

The officials and the reference desk scroll in windows of their own in larger text. The booth is
shared, so what one citizen left scrolled is not where the next one starts.
"""

from __future__ import annotations

from typing import Any

import pytest

from ..conftest import Booth
from .conftest import Kiosk, open_kiosk

pytestmark = pytest.mark.browser

FIRST_CARD_AT = """(grid) => {
  const card = grid.querySelector(".card").getBoundingClientRect();
  return Math.round(card.top - grid.getBoundingClientRect().top);
}"""


async def to_officials(kiosk: Kiosk, lang: str) -> Any:
    """start (larger text) → consent → category → the officials; their list's window."""
    await kiosk.tap("#larger")
    await kiosk.tap(f'[data-action="lang"][data-value="{lang}"]')
    await kiosk.screen("consent")
    await kiosk.tap("#agree")
    await kiosk.screen("category")
    await kiosk.tap('[data-action="category"][data-value="question"]')
    await kiosk.screen("officials")
    grid = kiosk.page.locator("#officials")
    await grid.locator(".card").first.wait_for()
    return grid


@pytest.mark.parametrize("leave", ["to the start", "back"])
async def test_the_next_look_at_the_officials_starts_at_the_first_of_them(
    browser: Any, booth: Booth, leave: str
) -> None:
    """A citizen scrolled the officials to the last one, then left («To the start», or «Back»
    to the kind of appeal): the next look at the list, the next citizen's or their own, starts
    at its first official, as the first look did."""
    kiosk = await open_kiosk(browser, booth)
    page = kiosk.page
    grid = await to_officials(kiosk, "ru")
    first = await grid.evaluate(FIRST_CARD_AT)
    assert await grid.evaluate("(g) => g.scrollHeight > g.clientHeight + 1"), "no list to scroll"
    await grid.evaluate("(g) => { g.scrollTop = g.scrollHeight; }")
    assert await grid.evaluate(FIRST_CARD_AT) < first  # scrolled: the first is above the window

    if leave == "back":
        await kiosk.tap('[data-screen="officials"] [data-action="back"]')
        await kiosk.screen("category")
        await kiosk.tap('[data-action="category"][data-value="violation"]')
        await kiosk.screen("officials")
        await grid.locator(".card").first.wait_for()
    else:
        # Nothing typed or recorded yet, so the booth asks nothing before it starts again.
        await kiosk.tap("#home")
        await kiosk.screen("start")
        grid = await to_officials(kiosk, "kk")

    assert await grid.evaluate("(g) => g.scrollTop") == 0
    assert await grid.evaluate(FIRST_CARD_AT) == first
    await page.context.close()


async def test_the_reference_desk_opens_at_its_top_for_the_next_citizen(
    browser: Any, booth: Booth
) -> None:
    """A citizen read the common questions down to the last one in larger text and left; the
    next one opens the desk at its topics, as the first did."""
    kiosk = await open_kiosk(browser, booth)
    page = kiosk.page
    body = page.locator("#ref-body")

    async def open_desk() -> None:
        await kiosk.tap("#larger")
        await kiosk.tap('[data-action="reference"][data-value="ru"]')
        await kiosk.screen("reference")
        await page.locator("#ref-results button").first.wait_for()

    await open_desk()
    assert await body.evaluate("(b) => b.scrollHeight > b.clientHeight + 1"), "nothing to scroll"
    await body.evaluate("(b) => { b.scrollTop = b.scrollHeight; }")
    assert await body.evaluate("(b) => b.scrollTop") > 0
    await kiosk.tap("#home")
    await kiosk.screen("start")
    await open_desk()
    assert await body.evaluate("(b) => b.scrollTop") == 0
    await page.context.close()
