"""Did the answer help? By touch at the booth (in audio mode too) and on the tracking page, in
both languages: the choice is sent with the look-up's number and code, a second one replaces the
first, and the page says what became of a "no"."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from dialog_platform.testing.dashboard import Official, forms

from ..conftest import Booth, demo_password
from ..test_booth_api import registered
from .conftest import SCREENSHOTS, Kiosk, axe, layout_problems, open_kiosk
from .test_answer import answer, text, video_bytes
from .test_voice import press, said

pytestmark = pytest.mark.browser
__all__ = ["video_bytes"]  # the module's fixture, shared with the answer's tests


async def rating(booth: Booth, http: httpx.AsyncClient, receipt: dict[str, Any]) -> Any:
    keys = {k: receipt[k] for k in ("registration_number", "access_code")}
    found = await http.post(f"{booth.url}/api/v1/answers/lookup", json=keys)
    return found.json()["rating"]


async def look_up(kiosk: Kiosk, lang: str, receipt: dict[str, Any], *, audio: bool) -> None:
    tap = (lambda s: press(kiosk, s)) if audio else kiosk.tap
    await tap(f'[data-action="lookup"][data-value="{lang}"]')
    await kiosk.screen("lookup")
    digits = receipt["registration_number"].replace("-", "") + receipt["access_code"]
    if audio:
        for digit in digits:
            await press(kiosk, f'#lookup-keyboard [data-key="{digit}"]')
    else:
        await kiosk.type("#lookup-keyboard", digits)
    await tap("#lookup-show")
    await kiosk.screen("result")


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_the_booth_asks_whether_the_answer_helped(
    browser: Any, booth: Booth, http: httpx.AsyncClient, video_bytes: bytes, lang: str
) -> None:
    receipt = await registered(booth, http, video_bytes, language=lang)
    await answer(booth, http, receipt, video_bytes)
    kiosk = await open_kiosk(browser, booth)
    await look_up(kiosk, lang, receipt, audio=False)
    await kiosk.page.locator("#rating").scroll_into_view_if_needed()
    assert await kiosk.text("#rating-question") == text(lang, "rate_question")
    assert await kiosk.page.locator("#rating-reasons").is_hidden()
    await kiosk.shot(f"{lang}-24-result-rate")
    violations = {"rate": await axe(kiosk.page)}

    # "No" asks why; the reason, touched, sends it.
    await kiosk.tap("#rate-no")
    await kiosk.page.locator("#rating-reasons").wait_for(state="visible")
    assert await rating(booth, http, receipt) is None  # nothing sent without a reason
    await kiosk.page.locator('[data-reason="late"]').scroll_into_view_if_needed()
    await kiosk.shot(f"{lang}-25-result-rate-why")
    violations["why"] = await axe(kiosk.page)
    await kiosk.tap('[data-reason="unclear"]')
    status = kiosk.page.locator("#rating-status")
    await status.filter(has_text=text(lang, "rate_thanks_no")).wait_for()
    assert await kiosk.text("#follow-up-status") == text(lang, "follow_open")
    pressed = kiosk.page.locator('#rating [aria-pressed="true"]')
    assert sorted(await pressed.evaluate_all("els => els.map(e => e.id || e.dataset.reason)")) == [
        "rate-no",
        "unclear",
    ]
    found = await rating(booth, http, receipt)
    assert (found["helped"], found["reason"], found["comment"]) == (False, "unclear", None)
    await kiosk.page.locator("#follow-up-status").scroll_into_view_if_needed()
    await kiosk.shot(f"{lang}-26-result-rated-no")
    violations["rated"] = await axe(kiosk.page)
    assert await layout_problems(kiosk.page, '[data-screen="result"], .bar') == []

    # Changed within the window: the "yes" replaces the "no".
    await kiosk.tap("#rate-yes")
    await status.filter(has_text=text(lang, "rate_thanks_yes")).wait_for()
    assert (await rating(booth, http, receipt))["helped"] is True
    assert await kiosk.text("#follow-up-status") == ""
    # Larger text lays the block out again, nothing cut or overlapping.
    await kiosk.tap("#larger")
    await kiosk.page.locator("#rating").scroll_into_view_if_needed()
    await kiosk.shot(f"{lang}-27-result-rated-larger")
    violations["larger"] = await axe(kiosk.page)
    assert await layout_problems(kiosk.page, '[data-screen="result"], .bar') == []
    await kiosk.page.context.close()
    assert not {k: v for k, v in violations.items() if v}, violations


async def test_the_booth_rates_by_ear(
    browser: Any, booth: Booth, http: httpx.AsyncClient, video_bytes: bytes
) -> None:
    """In audio mode the question is read with the screen; each choice is said on the first
    touch and pressed on the second, and what was recorded is said."""
    receipt = await registered(booth, http, video_bytes, language="ru")
    await answer(booth, http, receipt, video_bytes)
    kiosk = await open_kiosk(browser, booth)
    await kiosk.tap("#audio-start")
    await kiosk.page.locator("#audio[aria-pressed=true]").wait_for(state="attached")
    await look_up(kiosk, "ru", receipt, audio=True)
    # The whole screen is read first (dates digit by digit), each clip rendered on first use.
    await said(kiosk, "ru", "rate_question", timeout=120)
    since = len(kiosk.requests)
    await kiosk.tap("#rate-no")
    await said(kiosk, "ru", "rate_no", since)
    assert await kiosk.page.locator("#rating-reasons").is_hidden()  # said, not pressed
    await kiosk.tap("#rate-no")
    await said(kiosk, "ru", "rate_reason_question", since)
    await press(kiosk, '[data-reason="not_answered"]')
    await said(kiosk, "ru", "rate_thanks_no", since)
    await said(kiosk, "ru", "follow_open", since)
    assert (await rating(booth, http, receipt))["reason"] == "not_answered"
    await kiosk.page.context.close()


async def test_the_tracking_page_takes_a_rating_with_a_comment(
    browser: Any, booth: Booth, http: httpx.AsyncClient, video_bytes: bytes
) -> None:
    receipt = await registered(booth, http, video_bytes, language="kk")
    await answer(booth, http, receipt, video_bytes)
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True, locale="kk-KZ"
    )
    page = await context.new_page()
    await page.goto(f"{booth.url}/track")
    await page.locator("#number").fill(receipt["registration_number"])
    await page.locator("#code").fill(receipt["access_code"])
    await page.locator("button[type=submit]").tap()
    await page.locator("#rating").wait_for(state="visible")
    violations = {"kk/rate": await axe(page)}
    await page.locator("#rate-no").tap()
    await page.locator('[data-reason="not_answered"]').tap()
    await page.locator("#rating-comment").fill("Сұрағым жарық туралы еді, жол туралы емес.")
    await page.screenshot(path=str(SCREENSHOTS / "kk-34-track-rate-why.png"), full_page=True)
    violations["kk/why"] = await axe(page)
    await page.locator("#rating-send").tap()
    status = page.locator("#rating-status")
    await status.filter(has_text=text("kk", "rate_thanks_no")).wait_for()
    assert await page.locator("#follow-up-status").inner_text() == text("kk", "follow_open")
    found = await rating(booth, http, receipt)
    assert found["comment"] == "Сұрағым жарық туралы еді, жол туралы емес."
    assert found["reason"] == "not_answered"
    await page.screenshot(path=str(SCREENSHOTS / "kk-35-track-rated-no.png"), full_page=True)
    violations["kk/rated"] = await axe(page)
    await page.locator('[data-lang-switch="ru"]').tap()
    await status.filter(has_text=text("ru", "rate_thanks_no")).wait_for()
    await page.screenshot(path=str(SCREENSHOTS / "ru-35-track-rated-no.png"), full_page=True)
    violations["ru/rated"] = await axe(page)
    # A second rating replaces the first.
    await page.locator("#rate-yes").tap()
    await status.filter(has_text=text("ru", "rate_thanks_yes")).wait_for()
    assert (await rating(booth, http, receipt))["helped"] is True
    await page.screenshot(path=str(SCREENSHOTS / "ru-36-track-rated-yes.png"), full_page=True)
    await context.close()
    assert not {k: v for k, v in violations.items() if v}, violations


async def settle(booth: Booth, receipt: dict[str, Any], action: str, note: str) -> None:
    """The official's supervisor (akim, a demo account) settles the dispute on the dashboard."""
    async with Official(booth.url) as akim:
        await akim.login("akim", demo_password("akim"))
        for _ in range(150):
            page = (await akim.client.get("/dashboard/disputed")).text
            if receipt["registration_number"] in page:
                break
            await asyncio.sleep(0.2)
        form = forms(page)[f"/dashboard/disputed/{receipt['appeal_id']}/{action}"]
        done = await akim.client.post(form.action, data={**form.hidden, "note": note})
        assert done.status_code == 303, done.text


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_the_booth_and_the_tracking_page_say_what_became_of_a_no(
    browser: Any, booth: Booth, http: httpx.AsyncClient, video_bytes: bytes, lang: str
) -> None:
    receipt = await registered(booth, http, video_bytes, language=lang)
    await answer(booth, http, receipt, video_bytes)
    keys = {k: receipt[k] for k in ("registration_number", "access_code")}
    no = {**keys, "helped": False, "reason": "not_answered"}
    assert (await http.post(f"{booth.url}/api/v1/answers/rating", json=no)).status_code == 200
    note = {"kk": "Жөндеу мамыр айына жоспарланған.", "ru": "Ремонт включён в план на май."}
    action = "confirm" if lang == "kk" else "follow-up"
    await settle(booth, receipt, action, note[lang])

    kiosk = await open_kiosk(browser, booth)
    await look_up(kiosk, lang, receipt, audio=False)
    status = kiosk.page.locator("#follow-up-status")
    await status.scroll_into_view_if_needed()
    if action == "confirm":
        assert await status.inner_text() == text(lang, "follow_confirmed")
        assert await kiosk.text("#follow-up-note") == note[lang]
    else:
        assert await status.inner_text() != text(lang, "follow_open")
        assert text(lang, "follow_requested").split("{")[0] in await status.inner_text()
    said = await status.inner_text()
    await kiosk.shot(f"{lang}-28-result-{action}")
    assert await axe(kiosk.page) == []
    assert await layout_problems(kiosk.page, '[data-screen="result"], .bar') == []
    await kiosk.page.context.close()

    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    page = await context.new_page()
    await page.goto(f"{booth.url}/track")
    await page.locator(f'[data-lang-switch="{lang}"]').tap()
    await page.locator("#number").fill(receipt["registration_number"])
    await page.locator("#code").fill(receipt["access_code"])
    await page.locator("button[type=submit]").tap()
    shown = page.locator("#follow-up-status")
    await shown.wait_for(state="visible")
    assert await shown.inner_text() == said
    await page.screenshot(path=str(SCREENSHOTS / f"{lang}-37-track-{action}.png"), full_page=True)
    assert await axe(page) == []
    await context.close()
