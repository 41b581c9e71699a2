"""The booth in Chromium, by touch: the whole way in both languages, the extension and the hard
stop, an interrupted upload, the idle reset, the answer look-up, and a refused camera."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from ..conftest import BASE_S, EXTENSION_S, IDLE_CONFIRM_S, IDLE_S, Booth
from .conftest import BASE_ARGS, CHROMIUM, Kiosk, axe, open_kiosk

# The identity step gives three times the usual idle time (finding an ID card takes a while).
SLOW_IDLE_S = 3 * IDLE_S

pytestmark = pytest.mark.browser

NAME = {"kk": "Айгүл Нұрланова", "ru": "Иван Петров"}
IIN = "900101400013"
PHONE = "7012345678"


async def walk_to_record(kiosk: Kiosk, lang: str, shots: str | None = None) -> None:
    """start → consent → category → official → identity → the recording screen, ready."""

    async def shot(name: str) -> None:
        if shots:
            await kiosk.shot(f"{shots}-{name}")

    await shot("01-start")
    await kiosk.tap(f'[data-action="lang"][data-value="{lang}"]')
    await kiosk.screen("consent")
    await shot("02-consent")
    await kiosk.tap("#agree")
    await kiosk.screen("category")
    await shot("03-category")
    await kiosk.tap('[data-action="category"][data-value="question"]')
    await kiosk.screen("officials")
    await kiosk.page.locator(".card").first.wait_for()
    await shot("04-officials")
    if shots:
        # The competence filter narrows the grid.
        all_cards = await kiosk.page.locator(".card").count()
        await kiosk.page.locator(".chip").nth(1).tap()
        assert 0 < await kiosk.page.locator(".card").count() < all_cards
        await shot("05-officials-filtered")
        await kiosk.page.locator(".chip").first.tap()
    await kiosk.choose("deputy-housing")
    await shot("06-identity")
    await kiosk.type("#keyboard", NAME[lang])
    await kiosk.tap('[data-focus="iin"]')
    if shots:
        # A mistyped IIN is called wrong as soon as it is complete, next to the field.
        await kiosk.type("#keyboard", IIN[:-1] + "9")
        assert await kiosk.text("#field-iin .error")
        await shot("07-identity-iin-error")
        await kiosk.tap_key("#keyboard", "clear")
    await kiosk.type("#keyboard", IIN)
    await kiosk.tap('[data-focus="phone"]')
    if shots:
        await kiosk.tap_key("#keyboard", "5")
        assert await kiosk.text("#field-phone .error")
        await shot("08-phone-error")
        await kiosk.tap_key("#keyboard", "back")
    await kiosk.type("#keyboard", PHONE)
    assert await kiosk.text("#field-phone .value") == "701 234 56 78"
    assert not await kiosk.text("#field-phone .error")
    await shot("09-identity-filled")
    await kiosk.tap("#identity-next")
    await kiosk.screen("record")
    await kiosk.page.locator("#record-start").wait_for(state="visible")


async def record(kiosk: Kiosk, seconds: float, shots: str | None = None) -> float:
    """Record for about `seconds`; returns how long it really recorded, as the test saw it."""
    if shots:
        await kiosk.shot(f"{shots}-10-record-ready")
    await kiosk.tap("#record-start")
    if shots:
        await kiosk.page.locator("#countdown").wait_for(state="visible")
        await kiosk.shot(f"{shots}-11-countdown")
    await kiosk.page.locator("#rec-badge").wait_for(state="visible", timeout=10_000)
    started = time.monotonic()
    await asyncio.sleep(max(0.0, seconds - 0.8))
    if shots:
        await kiosk.shot(f"{shots}-12-recording")
    await asyncio.sleep(max(0.0, seconds - (time.monotonic() - started)))
    await kiosk.tap("#record-stop")
    stopped = time.monotonic()
    await kiosk.screen("review")
    return stopped - started


def probe(path: Path) -> tuple[set[str], float]:
    """The stream kinds and the duration of a stored WebM, read to its last packet."""
    import av

    with av.open(str(path)) as container:
        kinds = {s.type for s in container.streams}
        end = 0.0
        for packet in container.demux():
            if packet.pts is not None and packet.time_base is not None:
                end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
    return kinds, end


async def stored_video(booth: Booth, kiosk_id: str) -> tuple[dict[str, Any], Path]:
    [appeal] = await booth.appeals(kiosk_id)
    assert appeal["status"] == "submitted"
    return appeal, booth.media / appeal["video"]["key"]


async def until(probe_fn: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := await probe_fn()):
        assert time.monotonic() < deadline, f"not true after {timeout}s"
        await asyncio.sleep(0.2)
    return result


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_the_whole_way_from_start_to_receipt_and_the_answer_look_up(
    browser: Any, booth: Booth, lang: str
) -> None:
    kiosk = await open_kiosk(browser, booth)
    await walk_to_record(kiosk, lang, shots=lang)
    recorded = await record(kiosk, 4.0, shots=lang)
    await kiosk.shot(f"{lang}-13-review")
    assert await kiosk.page.locator("#record-limit").is_hidden()
    await kiosk.tap("#review-send")
    await kiosk.screen("receipt", timeout=60_000)
    number = await kiosk.text("#receipt-number")
    code = (await kiosk.text("#receipt-code")).replace(" ", "")
    await kiosk.page.locator("#receipt-status.ok").wait_for(timeout=30_000)
    assert await kiosk.text("#receipt-status") == booth_text(lang, "receipt_take")
    await kiosk.shot(f"{lang}-14-receipt")

    # The appeal arrived with a real WebM, picture and sound, as long as what was recorded.
    appeal, path = await stored_video(booth, kiosk.kiosk_id)
    assert appeal["registration_number"] == number
    assert appeal["language"] == lang and appeal["official_id"] == "deputy-housing"
    assert appeal["full_name"] == NAME[lang] and appeal["phone"] == "+7" + PHONE
    kinds, duration = probe(path)
    assert kinds == {"video", "audio"}
    assert abs(duration - recorded) < 1.0, (duration, recorded)
    assert abs(appeal["video"]["duration_s"] - recorded) < 1.0
    # ...and its receipt came out of the printer, for that number.
    assert (booth.receipts / f"{number}-1.png").exists()

    # Back to the start, then "see the answer" with the receipt's number and code.
    await kiosk.tap('[data-screen="receipt"] [data-action="home"]')
    await kiosk.screen("start")
    await kiosk.tap(f'[data-action="lookup"][data-value="{lang}"]')
    await kiosk.screen("lookup")
    await kiosk.shot(f"{lang}-15-lookup")
    digits = number.replace("-", "")
    wrong = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    before = len(kiosk.requests)
    await kiosk.type("#lookup-keyboard", wrong)
    await kiosk.tap('[data-focus="code"]')
    await kiosk.type("#lookup-keyboard", code)
    await kiosk.tap("#lookup-show")
    assert await kiosk.text("#field-number .error") == booth_text(lang, "err_number_check")
    await kiosk.shot(f"{lang}-16-lookup-mistyped")
    await asyncio.sleep(0.5)
    assert not [r for r in kiosk.requests[before:] if "/answers/lookup" in r]
    await kiosk.tap('[data-focus="number"]')
    await kiosk.tap_key("#lookup-keyboard", "back")
    await kiosk.tap_key("#lookup-keyboard", digits[-1])
    assert not await kiosk.text("#field-number .error")
    await kiosk.tap("#lookup-show")
    await kiosk.screen("result")
    assert await kiosk.text("#result-status") == booth_text(lang, "status_registered")
    assert number in await kiosk.text("#result-title")
    await kiosk.shot(f"{lang}-17-result-not-answered")
    await kiosk.tap("#reprint")
    await (
        kiosk.page.locator("#reprint-status")
        .filter(has_text=booth_text(lang, "reprint_done"))
        .wait_for()
    )
    await kiosk.shot(f"{lang}-18-reprint")

    async def reprinted() -> bool:
        return (booth.receipts / f"{number}-2.png").exists()

    await until(reprinted)
    await kiosk.page.context.close()


BLACK = "rgb(11, 26, 43)"
RED = "rgb(176, 0, 32)"


async def timer_colour(kiosk: Kiosk) -> str:
    return str(await kiosk.page.locator("#timer").evaluate("(el) => getComputedStyle(el).color"))


def booth_text(lang: str, key: str) -> str:
    from kiosk_gateway.pages import catalogs

    return catalogs()[lang][key]


async def test_extension_once_then_the_hard_stop_at_the_limit(browser: Any, booth: Booth) -> None:
    kiosk = await open_kiosk(browser, booth)
    await walk_to_record(kiosk, "ru")
    await kiosk.tap("#record-start")
    await kiosk.page.locator("#rec-badge").wait_for(state="visible", timeout=10_000)
    started = time.monotonic()
    assert await kiosk.page.locator("#record-extend").is_hidden()  # not offered at first
    # The timer is red only when time runs short, not from the first second.
    assert await timer_colour(kiosk) == BLACK
    extend = kiosk.page.locator("#record-extend")
    await extend.wait_for(state="visible", timeout=BASE_S * 1000)
    await kiosk.shot("ru-12b-recording-extend-offered")
    assert await extend.inner_text() == "+5 секунд"
    # ...with a chime and a line that says it, and the timer turns red.
    assert await kiosk.page.evaluate("document.body.dataset.cue") == "extend"
    assert await kiosk.text("#record-offer") == booth_text("ru", "record_offer")
    assert await timer_colour(kiosk) == RED
    await extend.tap()
    await kiosk.page.locator("#extended").wait_for(state="visible")
    assert await extend.is_hidden()  # one time only
    # Nobody taps stop: the recording ends by itself at base + extension.
    await kiosk.screen("review", timeout=(BASE_S + EXTENSION_S + 5) * 1000)
    stopped = time.monotonic() - started
    assert BASE_S + EXTENSION_S - 1 < stopped < BASE_S + EXTENSION_S + 2
    assert await kiosk.page.locator("#record-limit").is_visible()
    await kiosk.shot("ru-13b-review-at-limit")
    await send_the_longest_recording(kiosk)
    await kiosk.page.context.close()


async def send_the_longest_recording(kiosk: Kiosk) -> None:
    """Send from the review screen; the stored video lasts the base time and the extension."""
    await kiosk.tap("#review-send")
    await kiosk.screen("receipt", timeout=60_000)
    _, path = await stored_video(kiosk.booth, kiosk.kiosk_id)
    _, duration = probe(path)
    assert abs(duration - (BASE_S + EXTENSION_S)) < 1.0, duration


class DropFirstUpload:
    """A small TCP proxy in front of the gateway that cuts the first video upload midway."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.uploads = 0
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> DropFirstUpload:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self.server:
            self.server.close()
            await self.server.wait_closed()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)

        async def upstream() -> None:
            cut_at: int | None = None
            sent = 0
            while data := await reader.read(65536):
                if b"PUT /api/v1/appeals/" in data:
                    self.uploads += 1
                    if self.uploads == 1:
                        cut_at = sent + data.index(b"PUT /api/v1/appeals/") + 20_000
                if cut_at is not None and sent + len(data) >= cut_at:
                    up_writer.write(data[: cut_at - sent])
                    await up_writer.drain()
                    raise ConnectionResetError("dropped by the test")
                up_writer.write(data)
                await up_writer.drain()
                sent += len(data)

        async def downstream() -> None:
            while data := await up_reader.read(65536):
                writer.write(data)
                await writer.drain()

        tasks = [asyncio.create_task(upstream()), asyncio.create_task(downstream())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for w in (writer, up_writer):
                w.transport.abort()


async def test_an_upload_cut_once_is_sent_again_and_arrives_once(
    browser: Any, booth: Booth
) -> None:
    port = int(booth.url.rsplit(":", 1)[1])
    proxy = await DropFirstUpload(port).start()
    try:
        kiosk = await open_kiosk(browser, booth, base=f"http://127.0.0.1:{proxy.port}")
        await walk_to_record(kiosk, "kk")
        await record(kiosk, 3.0)
        await kiosk.tap("#review-send")
        status = kiosk.page.locator("#upload-status")
        await status.filter(has_text=booth_text("kk", "upload_retrying")[:20]).wait_for()
        await kiosk.shot("kk-13c-upload-retrying")
        await kiosk.screen("receipt", timeout=60_000)
        assert proxy.uploads == 2
        appeal, path = await stored_video(booth, kiosk.kiosk_id)
        number = await kiosk.text("#receipt-number")
        assert appeal["registration_number"] == number
        kinds, _ = probe(path)
        assert kinds == {"video", "audio"}

        # Exactly one video is kept for the appeal: the cut attempt left nothing behind.
        async def one_video() -> bool:
            folder = booth.media / "appeals" / appeal["_id"]
            return [p.name for p in folder.rglob("*.webm")] == [path.name]

        await until(one_video)

        async def printed() -> bool:
            return (booth.receipts / f"{number}-1.png").exists()

        await until(printed)
        await kiosk.page.context.close()
    finally:
        await proxy.stop()


async def test_idle_booth_asks_then_discards_the_draft(browser: Any, booth: Booth) -> None:
    kiosk = await open_kiosk(browser, booth)
    await walk_to_record(kiosk, "kk")
    [draft] = await booth.appeals(kiosk.kiosk_id)
    assert draft["status"] == "draft"
    # Nobody touches the screen.
    await kiosk.page.locator("#idle").wait_for(state="visible", timeout=(IDLE_S + 3) * 1000)
    await kiosk.shot("kk-19-idle")
    await kiosk.screen("start", timeout=(IDLE_CONFIRM_S + 3) * 1000)
    assert await kiosk.page.locator("#idle").is_hidden()

    async def discarded() -> bool:
        return await booth.appeals(kiosk.kiosk_id) == []

    await until(discarded, timeout=10)
    # The next citizen starts from a clean form, in their own language.
    await kiosk.tap('[data-action="lang"][data-value="ru"]')
    await kiosk.tap("#agree")
    await kiosk.tap('[data-action="category"][data-value="violation"]')
    await kiosk.choose("deputy-housing")
    assert await kiosk.text("#field-full_name .value") == ""
    assert await kiosk.text("#field-phone .value") == ""
    await kiosk.shot("ru-19-idle-reset-identity")

    # "Yes, I'm here" keeps the citizen's work.
    await kiosk.type("#keyboard", "Ив")
    typed = time.monotonic()
    await kiosk.page.locator("#idle").wait_for(state="visible", timeout=(SLOW_IDLE_S + 3) * 1000)
    assert time.monotonic() - typed > SLOW_IDLE_S - 1
    await kiosk.shot("ru-20-idle")
    await kiosk.tap("#idle-stay")
    assert await kiosk.page.locator("#idle").is_hidden()
    assert await kiosk.text("#field-full_name .value") == "Ив"
    await kiosk.page.context.close()


async def test_a_refused_camera_says_so_and_calls_the_operator(
    playwright: Any, camera_file: Path, booth: Booth
) -> None:
    # A camera is there (so the booth is in service), but without the fake UI nobody grants
    # the permission, and Chromium refuses it when the recording opens it.
    browser = await playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            *BASE_ARGS,
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={camera_file}",
        ],
    )
    try:
        for lang in ("kk", "ru"):
            kiosk = await open_kiosk(browser, booth)
            await walk_to_record_refused(kiosk, lang)
            assert await kiosk.text('[data-screen="camera"] .operator') == booth_text(
                lang, "call_operator"
            )
            await kiosk.shot(f"{lang}-21-camera-refused")
            assert await axe(kiosk.page) == []
            await kiosk.tap('[data-screen="camera"] [data-action="home"]')
            await kiosk.screen("start")
            await kiosk.page.context.close()
    finally:
        await browser.close()


async def walk_to_record_refused(kiosk: Kiosk, lang: str) -> None:
    await kiosk.tap(f'[data-action="lang"][data-value="{lang}"]')
    await kiosk.tap("#agree")
    await kiosk.tap('[data-action="category"][data-value="question"]')
    await kiosk.choose("akim")
    await fill_identity(kiosk, lang)
    await kiosk.tap("#identity-next")
    await kiosk.screen("camera")


async def fill_identity(kiosk: Kiosk, lang: str) -> None:
    """Name, IIN and phone typed on the on-screen keyboards, without a mistake."""
    await kiosk.type("#keyboard", NAME[lang])
    await kiosk.tap('[data-focus="iin"]')
    await kiosk.type("#keyboard", IIN)
    await kiosk.tap('[data-focus="phone"]')
    await kiosk.type("#keyboard", PHONE)


async def test_an_unenrolled_browser_shows_the_operator_screen(browser: Any, booth: Booth) -> None:
    context = await browser.new_context(viewport={"width": 1080, "height": 1920}, has_touch=True)
    page = await context.new_page()
    await page.goto(f"{booth.url}/kiosk")
    await page.locator('[data-screen="unavailable"]').wait_for(state="visible")
    kiosk = Kiosk(page=page, booth=booth, kiosk_id="", base=booth.url)
    await kiosk.shot("kk-ru-00-not-enrolled")
    assert await axe(page) == []
    await context.close()
