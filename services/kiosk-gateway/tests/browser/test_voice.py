"""Audio guidance and the timers, in Chromium by touch and by keys: every screen says itself in
the citizen's language from real audio files, a control is said on the first touch and pressed
on the second, the receipt's number is read digit by digit; a recording being watched is never
deleted by the idle timer, and "to the start" asks before it throws anything away."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import pytest

from kiosk_gateway.pages import catalogs
from kiosk_gateway.speech import clip_texts

from ..conftest import BASE_S, EXTENSION_S, IDLE_S, Booth
from ..test_speech import plausible
from .conftest import Kiosk, layout_problems, open_kiosk
from .test_access import SHOWN
from .test_booth import IIN, NAME, PHONE, booth_text, send_the_longest_recording, walk_to_record

pytestmark = pytest.mark.browser

SPOKEN = re.compile(r"/kiosk/speech/(kk|ru)/([a-z0-9_.-]+)\.wav$")
REVIEW_IDLE_S = 3 * IDLE_S  # the review screen's idle time: three times the usual


def spoken(kiosk: Kiosk, since: int = 0) -> list[tuple[str, str]]:
    """The clips the page asked for, in order: (language, clip)."""
    found = (SPOKEN.search(r.split(" ", 1)[1]) for r in kiosk.requests[since:])
    return [(m.group(1), m.group(2)) for m in found if m]


async def said(kiosk: Kiosk, lang: str, clip: str, since: int = 0, timeout: float = 30) -> int:
    """Waits until the page asks for the clip (after request number `since`)."""
    deadline = time.monotonic() + timeout
    while (lang, clip) not in spoken(kiosk, since):
        assert time.monotonic() < deadline, f"{lang}/{clip} never said; said {spoken(kiosk, since)}"
        await asyncio.sleep(0.1)
    return len(kiosk.requests)


async def listen(kiosk: Kiosk) -> None:
    """Notes each clip the page's audio element starts playing (a clip said twice is fetched
    once, so the requests alone do not tell the order)."""
    await kiosk.page.evaluate(
        """() => {
          window.heard = [];
          const voice = document.getElementById("voice");
          voice.addEventListener("playing", () => window.heard.push(voice.currentSrc));
        }"""
    )


async def heard(kiosk: Kiosk) -> list[str]:
    urls = await kiosk.page.evaluate("() => window.heard")
    return [m.group(2) for u in urls if (m := SPOKEN.search(u))]


async def press(kiosk: Kiosk, selector: str) -> None:
    """In audio mode: a first touch says the control, the second presses it."""
    await kiosk.tap(selector)
    await asyncio.sleep(0.15)
    await kiosk.tap(selector)


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_audio_mode_says_every_screen_in_the_citizens_language(
    browser: Any, booth: Booth, http: Any, lang: str
) -> None:
    kiosk = await open_kiosk(browser, booth)
    await listen(kiosk)
    # A tactile start: any key on the keypad.
    await kiosk.page.keyboard.press("5")
    assert await kiosk.page.locator("#audio").get_attribute("aria-pressed") == "true"
    assert await kiosk.page.locator("#volume").is_visible()
    await said(kiosk, "kk", "audio_started")
    await kiosk.shot(f"voice-{lang}-01-start")
    assert await layout_problems(kiosk.page, SHOWN) == []

    # One touch says the button and does nothing else.
    mark = len(kiosk.requests)
    await kiosk.tap(f'[data-action="lang"][data-value="{lang}"]')
    await said(kiosk, lang, f"lang_{lang}", mark)
    assert await kiosk.page.locator('[data-screen="start"]').is_visible()
    chosen = len(kiosk.requests)
    await kiosk.tap(f'[data-action="lang"][data-value="{lang}"]')
    await kiosk.screen("consent")
    await said(kiosk, lang, "consent_title", chosen)
    await said(kiosk, lang, "consent_what", chosen)
    # The audio element really plays.
    await kiosk.page.wait_for_function("() => document.getElementById('voice').played.length > 0")

    volume = await kiosk.page.evaluate("document.getElementById('voice').volume")
    await kiosk.page.keyboard.press("NumpadSubtract")
    assert await kiosk.page.evaluate("document.getElementById('voice').volume") < volume
    await said(kiosk, lang, "volume_down", chosen)

    mark = len(kiosk.requests)
    await press(kiosk, "#agree")
    await kiosk.screen("category")
    await said(kiosk, lang, "category_title", mark)
    await press(kiosk, '[data-action="category"][data-value="question"]')
    await kiosk.screen("officials")
    await said(kiosk, lang, "officials_title", mark)
    await kiosk.page.locator(".card").first.wait_for()
    card = '.card[data-official="deputy-housing"]'
    card_text = ". ".join(
        [await kiosk.text(f"{card} .{line}") for line in ("name", "position", "competence")]
    )
    mark = len(kiosk.requests)
    # The first touch says who the official is; the second chooses them.
    await kiosk.tap(card)
    await said(kiosk, lang, "official-deputy-housing", mark)
    assert await kiosk.page.locator('[data-screen="officials"]').is_visible()
    await kiosk.tap(card)
    # The reference desk's entries about this official are offered first, and said.
    await kiosk.screen("suggest")
    await said(kiosk, lang, "ref_maybe", mark)
    await kiosk.tap("#suggest-record")
    await kiosk.tap("#suggest-record")
    await kiosk.screen("identity")
    await said(kiosk, lang, "identity_title", mark)

    # The keyboard path: letters and digits typed on keys, each said as it is typed.
    for char in NAME[lang]:
        # A Kazakh or Russian keyboard's key events (Playwright's own keyboard is a US one).
        await kiosk.page.evaluate(
            "(key) => document.activeElement.dispatchEvent("
            "new KeyboardEvent('keydown', { key, bubbles: true }))",
            char,
        )
    assert await kiosk.text("#field-full_name .value") == NAME[lang]
    await said(kiosk, lang, f"letter-{ord(NAME[lang][-1]):x}", mark)
    await press(kiosk, '[data-focus="iin"]')
    await kiosk.page.keyboard.type(IIN + PHONE)  # a full IIN moves on to the phone by itself
    assert await kiosk.text("#field-phone .value") == "701 234 56 78"
    await said(kiosk, lang, "num-8", mark)
    await kiosk.shot(f"voice-{lang}-02-identity")
    mark = len(kiosk.requests)
    await press(kiosk, "#identity-next")
    await kiosk.screen("record")
    await said(kiosk, lang, "record_title", mark)
    # The limits are said before recording starts.
    await said(kiosk, lang, "record_rules_sec.0", mark)
    await said(kiosk, lang, f"num-{BASE_S}", mark)
    await kiosk.page.locator("#record-start").wait_for(state="visible")
    await press(kiosk, "#record-start")
    await kiosk.page.locator("#rec-badge").wait_for(state="visible", timeout=10_000)
    # The last seconds are counted aloud.
    await said(kiosk, lang, "num-6", mark, timeout=BASE_S)
    await press(kiosk, "#record-stop")
    await kiosk.screen("review")
    await said(kiosk, lang, "review_title", mark)
    mark = len(kiosk.requests)
    await press(kiosk, "#review-send")
    await kiosk.screen("receipt", timeout=60_000)
    await said(kiosk, lang, "receipt_title", mark)
    number = await kiosk.text("#receipt-number")
    code = (await kiosk.text("#receipt-code")).replace(" ", "")
    await said(kiosk, lang, "receipt_code", mark)
    deadline = time.monotonic() + 30
    while (clips := await heard(kiosk))[-1:] != ["receipt_keep"]:
        assert time.monotonic() < deadline, clips[-20:]
        await asyncio.sleep(0.2)
    await kiosk.shot(f"voice-{lang}-03-receipt")
    assert await layout_problems(kiosk.page, SHOWN) == []

    # The number and the code are read digit by digit, right after their labels.
    clips = clips[len(clips) - 1 - clips[::-1].index("receipt_title") :]
    start = clips.index("receipt_number") + 1
    digits = [c.removeprefix("num-") for c in clips[start : start + 11]]
    assert "".join(digits) == number.replace("-", ""), clips
    start = clips.index("receipt_code") + 1
    assert "".join(c.removeprefix("num-") for c in clips[start : start + 8]) == code, clips

    # Everything said after the choice was in that language, and each file is real speech.
    after = spoken(kiosk, chosen)
    assert {lang_ for lang_, _ in after} == {lang}, after
    texts = {lang_: clip_texts(catalogs()[lang_], lang_) for lang_ in ("kk", "ru")}
    for lang_, clip in dict.fromkeys(spoken(kiosk)):
        response = await http.get(f"{booth.url}/kiosk/speech/{lang_}/{clip}.wav")
        assert response.status_code == 200, clip
        text = card_text if clip.startswith("official-") else texts[lang_][clip].text
        plausible(text, response.content, f"{lang_}/{clip}")
    await kiosk.page.context.close()


async def test_a_recording_being_watched_is_not_lost_to_the_idle_timer(
    browser: Any, booth: Booth
) -> None:
    kiosk = await open_kiosk(browser, booth)
    await walk_to_record(kiosk, "ru")
    await kiosk.tap("#record-start")
    await kiosk.page.locator("#rec-badge").wait_for(state="visible", timeout=10_000)
    # Nothing on screen while recording can throw the recording away.
    assert await kiosk.page.locator("#home").is_hidden()
    await kiosk.page.locator("#record-extend").wait_for(state="visible", timeout=BASE_S * 1000)
    await kiosk.tap("#record-extend")
    # The longest recording there is, and nobody touches the screen from here on.
    await kiosk.screen("review", timeout=(BASE_S + EXTENSION_S + 5) * 1000)
    opened = time.monotonic()
    await kiosk.page.wait_for_function("() => !document.getElementById('playback').paused")
    # While it plays (longer than the usual idle time and its warning) and for three times the
    # idle time after, the booth waits.
    quiet_s = BASE_S + EXTENSION_S + REVIEW_IDLE_S - 2
    while time.monotonic() - opened < quiet_s:
        assert await kiosk.page.locator("#idle").is_hidden(), time.monotonic() - opened
        await asyncio.sleep(0.5)
    # Then it asks, with a chime, and says that the video is what would be deleted.
    await kiosk.page.locator("#idle").wait_for(state="visible", timeout=10_000)
    assert await kiosk.page.evaluate("document.body.dataset.cue") == "idle"
    assert (await kiosk.text("#idle-text")).startswith(
        booth_text("ru", "idle_text_video").split("{n}")[0]
    )
    await kiosk.shot("ru-20b-idle-review")
    await kiosk.tap("#idle-stay")

    # "To the start" asks before throwing the recording away; "no" keeps it.
    await kiosk.tap("#home")
    await kiosk.page.locator("#confirm-home").wait_for(state="visible")
    assert await kiosk.text("#confirm-text") == booth_text("ru", "home_confirm_text")
    await kiosk.tap("#confirm-no")
    assert await kiosk.page.locator('[data-screen="review"]').is_visible()
    await send_the_longest_recording(kiosk)
    await kiosk.page.context.close()


async def test_to_the_start_with_work_asks_and_yes_discards_the_draft(
    browser: Any, booth: Booth
) -> None:
    kiosk = await open_kiosk(browser, booth)
    await walk_to_record(kiosk, "kk")
    [draft] = await booth.appeals(kiosk.kiosk_id)
    assert draft["status"] == "draft"
    await kiosk.tap("#home")
    await kiosk.page.locator("#confirm-home").wait_for(state="visible")
    await kiosk.tap("#confirm-yes")
    await kiosk.screen("start")
    deadline = time.monotonic() + 10
    while await booth.appeals(kiosk.kiosk_id):
        assert time.monotonic() < deadline, "the draft stayed"
        await asyncio.sleep(0.2)

    # Nothing entered yet: back to the start at once, nothing to ask.
    await kiosk.tap('[data-action="lang"][data-value="ru"]')
    await kiosk.screen("consent")
    await kiosk.tap("#home")
    await kiosk.screen("start")
    assert await kiosk.page.locator("#confirm-home").is_hidden()

    # The look-up keypad speaks the language of this look-up, not of the first one.
    for lang in ("kk", "ru"):
        await kiosk.tap(f'[data-action="lookup"][data-value="{lang}"]')
        await kiosk.screen("lookup")
        assert await kiosk.text('#lookup-keyboard [data-key="clear"]') == booth_text(
            lang, "key_clear"
        )
        await kiosk.tap('[data-screen="lookup"] [data-action="home"]')
        await kiosk.screen("start")
    await kiosk.page.context.close()
