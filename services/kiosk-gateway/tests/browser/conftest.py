"""Debian's Chromium driven by Playwright, with a fake camera playing a file the tests make."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from dialog_platform.testing.access import axe

from ..conftest import Booth

__all__ = ["axe"]  # the browser tests import it from here

REPO = Path(__file__).resolve().parents[4]
SCREENSHOTS = REPO / "test-output" / "screenshots" / "kiosk"
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

    async def choose(self, official_id: str, *, presses: int = 1) -> None:
        """Choose an official and go on to the identity form, past "maybe your question is
        answered here" when the reference desk has entries about them (`presses`: 2 with the
        audio guidance on, where the first touch says a control)."""
        for _ in range(presses):
            await self.tap(f'.card[data-official="{official_id}"]')
        shown = '[data-screen="suggest"]:not([hidden]), [data-screen="identity"]:not([hidden])'
        await self.page.locator(shown).first.wait_for(timeout=20_000)
        if await self.page.locator('[data-screen="suggest"]').is_visible():
            for _ in range(presses):
                await self.tap("#suggest-record")
        await self.screen("identity")

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


async def open_kiosk(
    browser: Any, booth: Booth, *, base: str | None = None, clock: bool = False
) -> Kiosk:
    """The booth's page, enrolled. With `clock`, Playwright's clock stands in for the page's
    timers from its first script on: time flows as usual until a test moves it."""
    kiosk_id, token = booth.kiosk_add()
    base = base or booth.url
    context = await browser.new_context(
        viewport={"width": 1080, "height": 1920}, has_touch=True, device_scale_factor=1
    )
    if clock:
        await context.clock.install()
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


# Every text box the citizen can see, measured as the browser lays it out: two texts that
# overlap, a text cut off by a box that hides its overflow, one past the screen's edge, or one
# that runs to its button's border.
_LAYOUT = """(root) => {
  const problems = [];
  const boxes = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const shown = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const style = getComputedStyle(e);
      if (style.display === "none" || style.visibility === "hidden" || e.hidden) return false;
    }
    return true;
  };
  const name = (el) =>
    el.id ? `#${el.id}` : `${el.tagName.toLowerCase()}.${[...el.classList].join(".")}`;
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || !shown(el)) continue;
    if (el.closest("script, style, [aria-hidden=true]")) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    // Line by line: a text that wraps around a bold word is two boxes, not one around both.
    for (const line of range.getClientRects()) {
    let r = line;
    // Of a text in a list that scrolls, only the part in the list's window is seen.
    for (let a = el; a && a !== root.parentElement; a = a.parentElement) {
      if (a !== document.body && ["auto", "scroll"].includes(getComputedStyle(a).overflowY)) {
        const view = a.getBoundingClientRect();
        const top = Math.max(r.top, view.top), bottom = Math.min(r.bottom, view.bottom);
        r = { left: r.left, right: r.right, top, bottom, width: r.width, height: bottom - top };
        break;
      }
    }
    if (r.width < 1 || r.height < 1) continue;
    const label = `${name(el)} "${node.textContent.trim().slice(0, 30)}"`;
    boxes.push({ el, r, label });
    if (r.right > innerWidth + 1 || r.left < -1) problems.push(`off screen: ${label}`);
    // A word wider than its button spills over the padding onto the border: the button does
    // not clip it, so the check below would not see it, yet it reads as cut off.
    const button = el.closest("button");
    if (button) {
      const box = button.getBoundingClientRect(), style = getComputedStyle(button);
      const left = box.left + parseFloat(style.borderLeftWidth) + 4;
      const right = box.right - parseFloat(style.borderRightWidth) - 4;
      if (r.left < left - 0.5 || r.right > right + 0.5) {
        problems.push(`tight in its button: ${label}`);
      }
    }
    for (let a = el; a && a !== document.documentElement; a = a.parentElement) {
      const style = getComputedStyle(a);
      // Inside a box that scrolls, a text out of view is reached by scrolling.
      if (["auto", "scroll"].includes(style.overflowY)) break;
      const hides = (v) => ["hidden", "clip"].includes(v);
      if (!hides(style.overflowX) && !hides(style.overflowY)) continue;
      const box = a.getBoundingClientRect();
      const out = r.left < box.left - 1 || r.right > box.right + 1;
      if (out || r.top < box.top - 1 || r.bottom > box.bottom + 1) {
        problems.push(`clipped by ${name(a)}: ${label}`);
        break;
      }
    }
    }
  }
  for (let i = 0; i < boxes.length; i += 1) {
    for (let j = i + 1; j < boxes.length; j += 1) {
      const a = boxes[i].r, b = boxes[j].r;
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 1 && h > 1) problems.push(`overlap: ${boxes[i].label} / ${boxes[j].label}`);
    }
  }
  return problems;
}"""


async def layout_problems(page: Any, selector: str) -> list[str]:
    """Overlapping, clipped, off-screen or button-tight text in each visible match of selector."""
    problems: list[str] = []
    for root in await page.locator(selector).all():
        if await root.is_visible():
            problems += await root.evaluate(_LAYOUT)
    return problems
