"""Debian's Chromium driven by Playwright, with a fake camera playing a file the tests make."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from ..conftest import Booth

SCREENSHOTS = Path(__file__).resolve().parents[4] / "test-output" / "screenshots" / "kiosk"
CHROMIUM = "/usr/bin/chromium"
BASE_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]


def make_camera_file(path: Path, *, seconds: int = 2, width: int = 320, height: int = 240) -> Path:
    """A .y4m clip for Chromium's fake camera (it loops it): a moving gradient."""
    import av

    fps = 15
    with av.open(str(path), "w", format="yuv4mpegpipe") as container:
        stream = container.add_stream("rawvideo", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(seconds * fps):
            frame = av.VideoFrame(width, height, "yuv420p")
            frame.planes[0].update(bytes((x + i * 4) & 0xFF for x in range(width)) * height)
            frame.planes[1].update(bytes([90]) * (width * height // 4))
            frame.planes[2].update(bytes([200]) * (width * height // 4))
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


@pytest.fixture(scope="session")
def camera_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_camera_file(tmp_path_factory.mktemp("camera") / "camera.y4m")


@dataclass
class Kiosk:
    """One booth's browser page, used by touch only."""

    page: Any
    booth: Booth
    kiosk_id: str
    base: str
    requests: list[str] = field(default_factory=list)

    async def tap(self, selector: str) -> None:
        await self.page.locator(selector).tap()

    async def tap_key(self, keyboard: str, key: str) -> None:
        await self.page.locator(f"{keyboard} [data-key={_quote(key)}]").tap()

    async def type(self, keyboard: str, text: str) -> None:
        for char in text:
            await self.tap_key(keyboard, char.upper() if char.isalpha() else char)

    async def screen(self, name: str, timeout: float = 20_000) -> None:
        await self.page.locator(f'[data-screen="{name}"]').wait_for(
            state="visible", timeout=timeout
        )

    async def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await asyncio.sleep(0.15)  # let layout and fonts settle
        await self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))

    async def text(self, selector: str) -> str:
        return str(await self.page.locator(selector).inner_text())


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def launch(playwright: Any, camera_file: Path, *, camera: bool = True) -> Any:
    args = list(BASE_ARGS)
    if camera:
        args += [
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={camera_file}",
        ]
    return await playwright.chromium.launch(executable_path=CHROMIUM, args=args)


@pytest.fixture
async def playwright() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        yield p


async def open_kiosk(browser: Any, booth: Booth, *, base: str | None = None) -> Kiosk:
    kiosk_id, token = booth.kiosk_add()
    base = base or booth.url
    context = await browser.new_context(
        viewport={"width": 1080, "height": 1920}, has_touch=True, device_scale_factor=1
    )
    page = await context.new_page()
    kiosk = Kiosk(page=page, booth=booth, kiosk_id=kiosk_id, base=base)
    page.on("request", lambda r: kiosk.requests.append(f"{r.method} {r.url}"))
    # The launcher's one-time enrolment; the page ends up at /kiosk with a cookie.
    await page.goto(f"{base}/kiosk/enrol?token={token}")
    assert page.url == f"{base}/kiosk"
    await kiosk.screen("start")
    return kiosk


@pytest.fixture
async def browser(playwright: Any, camera_file: Path) -> AsyncIterator[Any]:
    browser = await launch(playwright, camera_file)
    try:
        yield browser
    finally:
        await browser.close()
