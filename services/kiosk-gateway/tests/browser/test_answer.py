"""The citizen sees the answer: on the tracking page (a phone) and at the booth, text and video."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from dialog_platform.testing.webm import make_webm
from kiosk_gateway.pages import catalogs

from ..conftest import Booth
from ..test_booth_api import registered
from .conftest import SCREENSHOTS, Kiosk, axe, layout_problems, open_kiosk

pytestmark = pytest.mark.browser
ANSWER = "Құрметті Айгүл! Аулаңыздағы жарық мамыр айында жөнделеді."


def text(lang: str, key: str) -> str:
    return catalogs()[lang][key]


@pytest.fixture(scope="module")
def video_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_webm(tmp_path_factory.mktemp("answer") / "a.webm", seconds=3).read_bytes()


async def answer(
    booth: Booth, http: httpx.AsyncClient, receipt: dict[str, Any], video: bytes
) -> None:
    """The official answers with text and video on the dashboard; wait until the gateway has it."""
    await booth.answer(receipt["appeal_id"], ANSWER, video)
    lookup = {
        "registration_number": receipt["registration_number"],
        "access_code": receipt["access_code"],
    }
    for _ in range(150):
        found = (await http.post(f"{booth.url}/api/v1/answers/lookup", json=lookup)).json()
        if found["status"] == "answered":
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"the answer never reached the gateway: {found}")


async def test_tracking_page_on_a_phone(
    browser: Any, booth: Booth, http: httpx.AsyncClient, video_bytes: bytes
) -> None:
    receipt = await registered(booth, http, video_bytes, language="kk")
    number, code = receipt["registration_number"], receipt["access_code"]
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, locale="ru-RU"
    )
    page = await context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    await page.goto(f"{booth.url}/track")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # A Russian-speaking phone opens it in Russian; the switch changes it.
    assert await page.locator("h1").inner_text() == text("ru", "track_title")
    await page.screenshot(path=str(SCREENSHOTS / "ru-30-track.png"))
    violations = {"ru/track": await axe(page)}
    await page.locator('[data-lang-switch="kk"]').tap()
    assert await page.locator("h1").inner_text() == text("kk", "track_title")

    digits = number.replace("-", "")
    wrong = digits[:6] + str((int(digits[6]) + 1) % 10) + digits[7:]
    await page.locator("#number").fill(wrong)
    await page.locator("#code").fill(code)
    await page.locator("button[type=submit]").tap()
    assert await page.locator("#number-error").inner_text() == text("kk", "err_number_check")
    await asyncio.sleep(0.3)
    assert not [r for r in requests if "/answers/lookup" in r]
    await page.screenshot(path=str(SCREENSHOTS / "kk-31-track-mistyped.png"))

    await page.locator("#number").fill(number)
    await page.locator("button[type=submit]").tap()
    status = page.locator("#result-status")
    await status.filter(has_text=text("kk", "status_registered")).wait_for()
    # The result is announced: the focus is taken to its heading.
    assert await page.evaluate("document.activeElement.id") == "result-title"
    violations["kk/track-not-answered"] = await axe(page)
    await page.screenshot(path=str(SCREENSHOTS / "kk-32-track-not-answered.png"), full_page=True)

    await answer(booth, http, receipt, video_bytes)
    await page.locator("button[type=submit]").tap()
    await status.filter(has_text=text("kk", "status_answered")).wait_for()
    assert await page.locator("#answer-text").inner_text() == ANSWER
    assert await page.locator("#answer-text").get_attribute("lang") == "kk"  # the appeal's
    video = page.locator("#answer-video")
    await video.wait_for(state="visible")
    await page.wait_for_function(
        "() => document.querySelector('#answer-video').readyState >= 1", timeout=15_000
    )
    duration = await video.evaluate("v => v.duration")
    assert 2.0 < duration < 4.5
    await page.screenshot(path=str(SCREENSHOTS / "kk-33-track-answered.png"), full_page=True)
    await page.locator('[data-lang-switch="ru"]').tap()
    await status.filter(has_text=text("ru", "status_answered")).wait_for()
    await page.screenshot(path=str(SCREENSHOTS / "ru-33-track-answered.png"), full_page=True)
    violations["ru/track-answered"] = await axe(page)
    await context.close()
    found = {page: v for page, v in violations.items() if v}
    print(found)
    assert not found, found


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_the_booth_plays_the_answer(
    browser: Any, booth: Booth, http: httpx.AsyncClient, video_bytes: bytes, lang: str
) -> None:
    receipt = await registered(booth, http, video_bytes, language=lang)
    await answer(booth, http, receipt, video_bytes)
    kiosk: Kiosk = await open_kiosk(browser, booth)
    await kiosk.tap(f'[data-action="lookup"][data-value="{lang}"]')
    await kiosk.screen("lookup")
    await kiosk.type("#lookup-keyboard", receipt["registration_number"].replace("-", ""))
    await kiosk.type("#lookup-keyboard", receipt["access_code"])
    await kiosk.tap("#lookup-show")
    await kiosk.screen("result")
    assert await kiosk.text("#result-status") == text(lang, "status_answered")
    assert await kiosk.text("#answer-text") == ANSWER
    # The video answer plays by itself.
    await kiosk.page.wait_for_function(
        "() => { const v = document.querySelector('#answer-video');"
        " return v.currentTime > 0.3 && !v.paused; }",
        timeout=15_000,
    )
    await kiosk.shot(f"{lang}-22-result-answered")
    assert await axe(kiosk.page) == []
    # And with larger text, for those who need it: laid out again, nothing cut or overlapping.
    await kiosk.tap("#larger")
    await kiosk.shot(f"{lang}-23-result-answered-larger")
    assert await axe(kiosk.page) == []
    assert await layout_problems(kiosk.page, '[data-screen="result"], .bar') == []
    await kiosk.page.context.close()
