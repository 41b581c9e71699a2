"""Booth health end to end, in one process: the printer runs out of paper, the booth says so,
the operator gets one SMS and one on recovery; a booth silent for 5 minutes counts offline."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from dialog_platform.testing.launch import SingleProcess
from dialog_platform.testing.smsc import FakeSmscServer, Sent
from dialog_platform.testing.waiting import eventually

from .conftest import system_env

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-output" / "screenshots" / "kiosk"
OPERATOR = "+77010000999"
# The stand-in printer's paper sensor: the DLE EOT 4 reply of a printer with no paper.
PAPER_OUT = "0x7E"


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[SingleProcess, FakeSmscServer]]:
    smsc = FakeSmscServer().start()
    runner = SingleProcess(
        data_dir=tmp_path_factory.mktemp("booth-health"),
        env={
            **system_env(smsc),
            "DIALOG_NOTIFIER_OPERATOR_PHONE": OPERATOR,
            "DIALOG_PRINTER_AGENT_STATUS_INTERVAL_S": "0.3",
            "DIALOG_KIOSK_GATEWAY_HEARTBEAT_S": "1",
            "DIALOG_KIOSK_GATEWAY_HEALTH_CHECK_S": "0.5",
            # Open all day every day, so the test means the same whenever it runs; the
            # 5 minutes of silence are the real setting, passed on the platform clock.
            "DIALOG_KIOSK_GATEWAY_OPENING_FROM": "00:00",
            "DIALOG_KIOSK_GATEWAY_OPENING_UNTIL": "23:59:59",
            "DIALOG_KIOSK_GATEWAY_OPENING_DAYS": "every",
        },
    )
    runner.start()
    try:
        yield runner, smsc
    finally:
        runner.stop()
        smsc.stop()


def about(smsc: FakeSmscServer, kiosk_id: str, pattern: str) -> list[Sent]:
    return [
        m
        for m in smsc.state.sent_to(OPERATOR.removeprefix("+")) + smsc.state.sent_to(OPERATOR)
        if kiosk_id in m.text and re.search(pattern, m.text)
    ]


async def metric(url: str, name: str, **labels: str) -> float | None:
    async with httpx.AsyncClient() as http:
        text = (await http.get(f"{url}/metrics")).text
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


async def test_out_of_paper_takes_the_booth_out_of_service_once_and_back(
    site: tuple[SingleProcess, FakeSmscServer],
) -> None:
    from playwright.async_api import async_playwright

    runner, smsc = site
    kiosk_id = "booth-paper"
    token = runner.kiosk_add(kiosk_id, "Өскемен, №1 ХҚКО / Усть-Каменогорск, ЦОН №1")
    sensor = runner.data_dir / "receipts" / "paper-sensor"
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
            ],
        )
        try:
            page = await browser.new_page(viewport={"width": 1080, "height": 1920})
            await page.goto(f"{runner.url}/kiosk/enrol?token={token}")
            await page.locator('[data-screen="start"]').wait_for(state="visible")
            await page.wait_for_selector("body[data-service='in']")
            assert await page.locator("#start-appeal").is_visible()

            sensor.parent.mkdir(parents=True, exist_ok=True)
            sensor.write_text(PAPER_OUT)
            banner = page.locator("#out-of-service")
            await banner.wait_for(state="visible", timeout=15_000)
            text = await banner.inner_text()
            assert "Терминал временно не работает, обратитесь к оператору" in text
            assert "Терминал уақытша жұмыс істемейді, операторға хабарласыңыз" in text
            assert "Не работает принтер квитанций" in text
            assert not await page.locator("#start-appeal").is_visible()
            # The look-up needs no printer: it stays offered.
            assert await page.locator('[data-action="lookup"][data-value="ru"]').is_visible()
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SCREENSHOTS / "start-out-of-service.png"))

            async def paper_sms() -> list[Sent]:
                return about(smsc, kiosk_id, "принтер не печатает")

            first = await eventually(paper_sms)
            assert "нет бумаги" in first[0].text
            assert (
                await metric(
                    runner.url, "dialog_kiosk_printer_state", kiosk=kiosk_id, state="out_of_paper"
                )
                == 1.0
            )

            async with httpx.AsyncClient(base_url=runner.url) as http:
                auth = {"Authorization": f"Bearer {token}"}
                refused = await http.post(
                    "/api/v1/appeals",
                    headers=auth,
                    json={
                        "official_id": "deputy-housing",
                        "phone": "+77012345678",
                        "language": "ru",
                        "category": "question",
                        "consent": True,
                    },
                )
                assert refused.status_code == 503
                message = refused.json()["error"]["message"]
                assert "к оператору" in message["ru"] and "Операторға" in message["kk"]
                looked_up = await http.post(
                    "/api/v1/answers/lookup",
                    headers=auth,
                    json={"registration_number": "2026-000001-1", "access_code": "12345678"},
                )
                assert looked_up.status_code in (404, 422), looked_up.text

            sensor.unlink()
            await page.locator("#start-appeal").wait_for(state="visible", timeout=15_000)
            assert not await banner.is_visible()

            async def recovery_sms() -> list[Sent]:
                return about(smsc, kiosk_id, "принтер снова печатает")

            await eventually(recovery_sms)
            # Polls and heartbeats go on meanwhile; neither message comes a second time.
            await asyncio.sleep(3)
            assert len(await paper_sms()) == 1
            assert len(await recovery_sms()) == 1
        finally:
            await browser.close()


async def test_a_booth_silent_for_five_minutes_counts_offline_and_back(
    site: tuple[SingleProcess, FakeSmscServer],
) -> None:
    runner, smsc = site
    kiosk_id = "booth-silent"
    token = runner.kiosk_add(kiosk_id, "Өскемен, №2 ХҚКО / Усть-Каменогорск, ЦОН №2")
    auth = {"Authorization": f"Bearer {token}"}
    beat: dict[str, Any] = {"camera": True, "microphone": True, "page_version": "test"}
    async with httpx.AsyncClient(base_url=runner.url) as http:
        first = await http.post("/api/v1/booth/heartbeat", headers=auth, json=beat)
        assert first.status_code == 200 and first.json()["appeals"] is True
        bad = await http.post("/api/v1/booth/heartbeat", headers=auth, json={"camera": "x"})
        assert bad.status_code == 422
        assert all(bad.json()["error"]["message"][lang] for lang in ("kk", "ru"))

        await asyncio.sleep(1.5)
        assert about(smsc, kiosk_id, "не на связи") == []
        runner.move_clock(timedelta(minutes=5, seconds=10))

        async def offline_sms() -> list[Sent]:
            return about(smsc, kiosk_id, "не на связи")

        await eventually(offline_sms)
        assert await metric(runner.url, "dialog_kiosk_up", kiosk=kiosk_id) == 0.0

        back = await http.post("/api/v1/booth/heartbeat", headers=auth, json=beat)
        assert back.status_code == 200

        async def online_sms() -> list[Sent]:
            return about(smsc, kiosk_id, "снова на связи")

        await eventually(online_sms)
        assert await metric(runner.url, "dialog_kiosk_up", kiosk=kiosk_id) == 1.0
        await asyncio.sleep(1.5)
        assert len(await offline_sms()) == 1 and len(await online_sms()) == 1


async def test_the_operator_sees_the_booths_of_their_center(
    site: tuple[SingleProcess, FakeSmscServer],
) -> None:
    import os
    import subprocess

    from playwright.async_api import async_playwright

    from dialog_platform.testing.launch import dialog_exe, run_cli

    runner, _ = site
    center = "Өскемен, №3 ХҚКО / Усть-Каменогорск, ЦОН №3"
    # A center named apart from the booth's location (two booths of one center differ there).
    added = await asyncio.to_thread(
        run_cli,
        ["kiosk", "add", "booth-op-mine", "--location", f"{center}, 2", "--center", center],
        runner.cli_env(),
    )
    mine = added.strip().splitlines()[-1]
    other = runner.kiosk_add("booth-op-other", "Алматы, №1 ХҚКО / Алматы, ЦОН №1")
    beat = {"camera": True, "microphone": True, "page_version": "test"}
    async with httpx.AsyncClient(base_url=runner.url) as http:
        for token, camera in ((mine, False), (other, True)):
            answer = await http.post(
                "/api/v1/booth/heartbeat",
                headers={"Authorization": f"Bearer {token}"},
                json={**beat, "camera": camera, "last_error": "camera: NotReadableError"},
            )
            assert answer.status_code == 200
    password = "operator-password-1"
    await asyncio.to_thread(
        subprocess.run,
        [
            dialog_exe(),
            "user",
            "add",
            "operator-3",
            "--role",
            "operator",
            "--center",
            center,
            "--password-stdin",
        ],
        input=password,
        text=True,
        check=True,
        capture_output=True,
        env={**os.environ, **runner.cli_env()},
    )
    shots = REPO / "test-output" / "screenshots" / "dashboard"
    shots.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox"]
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await page.goto(f"{runner.url}/dashboard/login")
            await page.fill("input[name=login]", "operator-3")
            await page.fill("input[name=password]", password)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{runner.url}/dashboard/booths")

            async def listed() -> bool:
                await page.reload()
                return await page.locator('tr[data-kiosk="booth-op-mine"]').count() == 1

            await eventually(listed)
            row = page.locator('tr[data-kiosk="booth-op-mine"]')
            assert await row.locator('[data-field="camera"]').inner_text() in (
                "Қолжетімсіз",
                "Недоступна",
            )
            assert await row.locator('[data-field="status"]').inner_text() in (
                "Уақытша жұмыс істемейді",
                "Временно не работает",
            )
            # The site's one printer spoke before this booth was registered; its word holds.
            assert await row.locator('[data-field="paper"]').inner_text() in ("Дайын", "Готов")
            # Another center's booth is not the operator's to see.
            assert await page.locator('tr[data-kiosk="booth-op-other"]').count() == 0
            await page.screenshot(path=str(shots / "operator-booths.png"), full_page=True)
        finally:
            await browser.close()


async def test_a_booth_without_a_camera_says_so_on_its_start_screen(
    site: tuple[SingleProcess, FakeSmscServer],
) -> None:
    from playwright.async_api import async_playwright

    runner, smsc = site
    kiosk_id = "booth-no-camera"
    token = runner.kiosk_add(kiosk_id, "Өскемен, №4 ХҚКО / Усть-Каменогорск, ЦОН №4")
    async with async_playwright() as p:
        # No fake devices: the booth computer's camera is unplugged.
        browser = await p.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = await browser.new_page(viewport={"width": 1080, "height": 1920})
            await page.goto(f"{runner.url}/kiosk/enrol?token={token}")
            banner = page.locator("#out-of-service")
            await banner.wait_for(state="visible", timeout=15_000)
            text = await banner.inner_text()
            assert "Не работает камера" in text and "Камера жұмыс істемейді" in text
            assert "принтер" not in text
            assert await page.locator('[data-action="lookup"][data-value="kk"]').is_visible()
            await page.screenshot(path=str(SCREENSHOTS / "start-no-camera.png"))

            async def camera_sms() -> list[Sent]:
                return about(smsc, kiosk_id, "камера недоступна")

            await eventually(camera_sms)
            await asyncio.sleep(2.5)  # more heartbeats, no second SMS
            assert len(await camera_sms()) == 1
        finally:
            await browser.close()
