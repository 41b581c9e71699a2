"""The open figures page for everyone, in Chromium on a phone and a desktop screen, both languages:
axe-core finds nothing serious, the language switch works, the table fits the phone (it scrolls
inside its own region, the page does not), with screenshots of each."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import httpx
import pytest

from ..conftest import Booth
from .conftest import SCREENSHOTS, axe

pytestmark = pytest.mark.browser


async def wait_for_figures(url: str, timeout: float = 60.0) -> None:
    """The gateway takes its first copy from routing a few seconds after start."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as http:
        while (await http.get(f"{url}/open/data.json")).status_code != 200:
            assert time.monotonic() < deadline, "no open figures after start"
            await asyncio.sleep(0.5)


async def test_open_page_in_both_languages_on_a_phone_and_a_desktop(
    booth: Booth, browser: Any
) -> None:
    await wait_for_figures(booth.url)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    found: dict[str, list[dict[str, Any]]] = {}
    for name, viewport in [("phone", (390, 844)), ("desktop", (1280, 900))]:
        context = await browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]}, device_scale_factor=1
        )
        page = await context.new_page()
        try:
            await page.goto(f"{booth.url}/open?lang=kk")
            for lang, heading in [
                ("kk", "Ашық көрсеткіштер"),
                ("ru", "Открытые показатели"),
            ]:
                if lang == "ru":
                    await page.get_by_role("link", name="Русский").click()
                    await page.wait_for_url("**/open?lang=ru**")
                assert await page.get_attribute("html", "lang") == lang
                assert heading in await page.locator("h1").inner_text()
                assert await page.locator("table caption").count() == 2
                # Every official has a row; a quiet one says "<5", with a text alternative.
                assert await page.locator("tbody tr").count() >= 5
                assert "<5" in await page.locator("tbody").last.inner_text()
                spark = page.locator("svg.spark").first
                assert re.search(r"\d{4}-\d{2}: ", await spark.get_attribute("aria-label") or "")
                # The page itself never scrolls sideways; the tables scroll in their region.
                wide = await page.evaluate(
                    "document.documentElement.scrollWidth > window.innerWidth"
                )
                assert not wide, f"{lang} {name}: the page scrolls sideways"
                await page.screenshot(
                    path=str(SCREENSHOTS / f"open-{lang}-{name}.png"), full_page=True
                )
                if problems := await axe(page):
                    found[f"{lang}/{name}"] = problems
            await page.goto(f"{booth.url}/open/README?lang=ru")
            await page.screenshot(path=str(SCREENSHOTS / f"open-readme-ru-{name}.png"))
            if problems := await axe(page):
                found[f"readme/{name}"] = problems
        finally:
            await context.close()
    assert not found, found
