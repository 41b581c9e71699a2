"""The open figures page for everyone, in Chromium on a phone and a desktop screen, both languages:
real appeals made at a booth show up in the figures and nothing of their citizens does; axe-core
finds nothing serious, the language switch works, the table fits the phone (it scrolls inside
its own region, the page does not), with screenshots of each."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import httpx
import pytest

from dialog_platform.testing import dashboard
from dialog_platform.testing.booth_api import file_appeal
from dialog_platform.testing.webm import make_webm

from ..conftest import Booth, demo_password
from ..test_booth_api import APPEAL
from .conftest import SCREENSHOTS, axe

OFFICIAL = "deputy-economy"
NAME = "Бекзат Ержанұлы Төлеуғазиев"
IIN = "900101400013"

pytestmark = pytest.mark.browser


async def wait_for_figures(url: str, timeout: float = 60.0) -> dict[str, Any]:
    """The official's row of this month once it counts six appeals, two of them answered (the
    gateway takes a new copy from routing every few seconds)."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as http:
        while True:
            r = await http.get(f"{url}/open/data.json")
            if r.status_code == 200:
                data = r.json()
                row = next(
                    x for x in data["rows"]
                    if x["official_id"] == OFFICIAL and x["month"] == data["months"][-1]
                )  # fmt: skip
                if not row["suppressed"] and row["received"] >= 6 and row["answered"] >= 2:
                    return dict(row)
            assert time.monotonic() < deadline, f"the appeals not in /open after {timeout}s"
            await asyncio.sleep(0.5)


async def test_open_page_in_both_languages_on_a_phone_and_a_desktop(
    booth: Booth, browser: Any, tmp_path: Any
) -> None:
    video = make_webm(tmp_path / "a.webm", seconds=2).read_bytes()
    secrets = [NAME, IIN, "7012345678", "701 234 56 78"]
    _, token = booth.kiosk_add()
    body = {**APPEAL, "official_id": OFFICIAL, "full_name": NAME, "iin": IIN}
    async with httpx.AsyncClient(timeout=60) as http:
        # Through one booth: adding one is a CLI run of its own.
        receipts = [await file_appeal(http, booth.url, token, body, video) for _ in range(6)]
    for r in receipts:
        secrets += [r["registration_number"], r["access_code"], r["appeal_id"]]
    async with dashboard.Official(booth.url) as official:
        await official.login(OFFICIAL, demo_password(OFFICIAL))
        for receipt in receipts[:2]:
            await official.answer(receipt["appeal_id"], "Жауап / Ответ")
    row = await wait_for_figures(booth.url)
    assert row["answered_on_time"] >= 2 and row["median_days_to_answer"] is not None
    async with httpx.AsyncClient(timeout=60) as http:
        published = "".join(
            [
                (await http.get(f"{booth.url}{path}")).content.decode("utf-8")
                for path in ("/open?lang=kk", "/open?lang=ru", "/open/data.csv", "/open/data.json")
            ]
        )
    for secret in secrets:
        assert secret not in published, secret
    assert APPEAL["phone"] not in published
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
