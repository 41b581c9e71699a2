"""In Chromium: an official logs in, sees the inbox, plays the video, answers (with the fake
camera); the control office reads the overdue list and downloads the CSV. Screenshots are kept
under test-output/screenshots/dashboard/."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import PASSWORD, Dialog, eventually, internal, make_appeal

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[3] / "test-output" / "screenshots" / "dashboard"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]


@pytest.fixture
async def page(dialog: Dialog) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            context = await chromium.new_context(
                viewport={"width": 1280, "height": 900},
                permissions=["camera", "microphone"],
                accept_downloads=True,
            )
            yield await context.new_page()
            await context.close()
        finally:
            await chromium.close()


async def until(page: Any, expression: str, timeout_s: float = 15.0) -> None:
    """Wait until a JavaScript expression is true on the page. Polled from here: the pages'
    Content-Security-Policy forbids the string evaluation `wait_for_function` polls with."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await page.evaluate(f"() => Boolean({expression})"):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not true after {timeout_s}s: {expression}")
        await asyncio.sleep(0.1)


async def log_in(page: Any, dialog: Dialog, login: str) -> None:
    await page.goto(f"{dialog.url}/dashboard/login")
    await page.fill("input[name=login]", login)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit].primary")
    await page.wait_for_load_state("networkidle")


async def submit_once_video_stored(page: Any, shot: str) -> None:
    """Wait until the answer's video is stored, keep a screenshot of the form, send it, and
    wait for the answer to show."""
    await until(page, "document.querySelector('input[name=video_key]').value.length > 0", 30)
    await page.screenshot(path=SHOTS / shot, full_page=True)
    # The first click shows what the citizen will see; only the confirmation sends it.
    await page.click("#answer-submit")
    await page.locator("#answer-preview[open]").wait_for()
    await page.click("#answer-confirm")
    await page.wait_for_load_state("networkidle")
    await page.locator("article.answer").wait_for()


async def test_official_logs_in_watches_and_answers(
    dialog: Dialog, page: Any, http: httpx.AsyncClient, videos: dict[str, Path]
) -> None:
    login = dialog.user("housing", "official", "deputy-housing")
    appeal = await make_appeal(dialog, http, videos["appeal"], language="ru")

    await page.goto(f"{dialog.url}/dashboard/login")
    await page.screenshot(path=SHOTS / "01-login.png")
    await log_in(page, dialog, login)
    assert page.url.endswith("/dashboard/inbox")
    row = page.locator(f'tr[data-appeal="{appeal.appeal_id}"]')
    await row.wait_for()

    # A new appeal shows up in the open inbox without a reload.
    newer = await make_appeal(dialog, http, videos["appeal"])
    await page.locator(f'tr[data-appeal="{newer.appeal_id}"]').wait_for(timeout=15_000)
    await page.locator("#live").wait_for()
    await page.screenshot(path=SHOTS / "02-inbox.png", full_page=True)

    await row.locator("a").click()
    await page.wait_for_load_state("networkidle")
    video = page.locator("#appeal-video")
    await until(page, "document.getElementById('appeal-video').readyState >= 2")
    await video.evaluate("v => { v.muted = true; return v.play(); }")
    await until(page, "document.getElementById('appeal-video').currentTime > 0.5")
    # Seeking: the browser fetches the middle of the file with a range request.
    await video.evaluate("v => { v.currentTime = 4; }")
    await until(
        page,
        "(() => { const v = document.getElementById('appeal-video');"
        " return !v.seeking && v.currentTime >= 4; })()",
    )
    await video.evaluate("v => v.pause()")
    assert await page.locator("#phone").inner_text() != ""
    assert "+7 701 *** ** 78" in await page.locator("#phone").inner_text()
    await page.screenshot(path=SHOTS / "03-case.png", full_page=True)

    # Answer: text in the appeal's language and a video from the (fake) camera.
    await page.fill("textarea[name=text]", "Уважаемая Айгуль! Ремонт запланирован на май.")
    await page.click("#record-start")
    await page.wait_for_timeout(2500)
    await page.click("#record-stop")
    await submit_once_video_stored(page, "04-answer-form.png")
    assert "Ремонт запланирован на май" in await page.locator("article.answer").inner_text()
    assert await page.locator("article.answer video").count() == 1
    await page.screenshot(path=SHOTS / "05-answered.png", full_page=True)

    r = await dialog.internal_answers(http, appeal.appeal_id)
    [answer] = r.json()["answers"]
    assert answer["video_key"] and answer["text"].startswith("Уважаемая")

    async def answered() -> bool:
        return (await dialog.case(http, appeal.appeal_id))["status"] == "answered"

    await eventually(answered)


async def test_control_office_overdue_list_and_csv_download(
    dialog: Dialog, page: Any, http: httpx.AsyncClient, videos: dict[str, Path]
) -> None:
    control = dialog.user("control-office", "controller")
    late = await make_appeal(dialog, http, videos["appeal"], official_id="deputy-economy")
    dialog.runner.move_clock(timedelta(days=16))
    fired = await http.post(f"{dialog.url}/api/v1/cases/timers/run", headers=internal())
    assert fired.status_code == 200
    fresh = await make_appeal(dialog, http, videos["appeal"], official_id="deputy-social")

    await log_in(page, dialog, control)
    await page.click("text=Мерзімі өткен")
    await page.wait_for_load_state("networkidle")
    assert "due=overdue" in page.url
    table = page.locator("#control")
    assert late.registration_number in await table.inner_text()
    assert fresh.registration_number not in await table.inner_text()
    await page.screenshot(path=SHOTS / "06-control-overdue.png", full_page=True)

    async with page.expect_download() as waiting:
        await page.click("#export")
    download = await waiting.value
    saved = SHOTS / "overdue.csv"
    await download.save_as(saved)
    data = saved.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    text = data[3:].decode("utf-8")
    assert text.splitlines()[0].startswith("Тіркеу нөмірі")
    assert late.registration_number in text and fresh.registration_number not in text

    await page.goto(f"{dialog.url}/dashboard/control/stats")
    await page.locator("svg.chart").wait_for()
    await page.screenshot(path=SHOTS / "07-stats.png", full_page=True)


async def test_answer_with_an_uploaded_video_in_kazakh(
    dialog: Dialog, page: Any, http: httpx.AsyncClient, videos: dict[str, Path]
) -> None:
    login = dialog.user("social", "official", "deputy-social")
    appeal = await make_appeal(
        dialog, http, videos["appeal"], official_id="deputy-social", language="kk"
    )
    await log_in(page, dialog, login)
    await page.goto(f"{dialog.url}/dashboard/lang/kk?next=/dashboard/cases/{appeal.appeal_id}")
    await page.wait_for_load_state("networkidle")
    picker = page.locator("#answer-form .file-picker")
    # The page's own words, not the browser's English "Choose file".
    assert await picker.locator("label").inner_text() == "Файл таңдау"
    assert await picker.locator(".file-name").inner_text() == "Файл таңдалмаған"

    await page.fill("textarea[name=text]", "Құрметті Айгүл! Жөндеу мамыр айында жоспарланған.")
    await page.set_input_files("#video-file", str(videos["appeal"]))
    assert await picker.locator(".file-name").inner_text() == videos["appeal"].name
    await submit_once_video_stored(page, "08-answer-upload-kk.png")
    assert await page.locator("article.answer video").count() == 1

    r = await dialog.internal_answers(http, appeal.appeal_id)
    [answer] = r.json()["answers"]
    assert answer["video_key"] and answer["text"].startswith("Құрметті")
