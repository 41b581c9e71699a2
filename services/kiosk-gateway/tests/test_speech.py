"""The booth's spoken prompts: every catalog message has real audio in both languages, rendered by
espeak-ng or replaced by a human recording, served by name only."""

from __future__ import annotations

import array
import asyncio
import io
import wave
from pathlib import Path
from typing import Any

import pytest

from kiosk_gateway.pages import catalogs
from kiosk_gateway.speech import Speech, clip_texts

from .conftest import Booth


def wav_facts(data: bytes) -> tuple[float, int]:
    """Seconds and peak amplitude (16-bit) of a WAV; raises if it is not one."""
    with wave.open(io.BytesIO(data)) as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1, (w.getsampwidth(), w.getnchannels())
        frames = w.readframes(w.getnframes())
        seconds = w.getnframes() / w.getframerate()
    samples = array.array("h", frames)
    return seconds, max((abs(s) for s in samples), default=0)


def plausible(text: str, data: bytes, where: str = "") -> None:
    seconds, peak = wav_facts(data)
    # Speech of a few letters lasts a fraction of a second, a sentence some seconds (a voice
    # that spells a word it cannot read takes far longer); never silence (hiss peaks low).
    assert peak > 2000, (where, text, peak)
    assert 0.15 < seconds < 1.6 + 0.1 * len(text), (where, text, seconds)


async def test_every_clip_of_both_catalogs_is_real_speech(tmp_path: Path) -> None:
    speech = Speech(tmp_path, catalogs())
    assert await speech.render_all() == []
    for lang, clips in speech.clips.items():
        for clip, said in clips.items():
            plausible(said.text, (await speech.path(lang, clip)).read_bytes(), f"{lang}/{clip}")
    # Every message the screen shows is among them, both languages alike.
    for lang in ("kk", "ru"):
        assert "start_title" in speech.clips[lang] and "num-7" in speech.clips[lang]

    # ...and both languages speak the same messages (pieces may sit differently around a value).
    def messages(lang: str) -> set[str]:
        return {c.split(".")[0] for c in speech.clips[lang] if not c.startswith("letter-")}

    assert messages("kk") == messages("ru")


def test_a_message_with_a_value_is_spoken_in_pieces_around_it() -> None:
    clips = clip_texts(
        {"idle_text": "Через {n} с всё будет удалено", "review_duration": "{time}"}, "ru"
    )
    assert clips["idle_text.0"].text == "Через"
    assert clips["idle_text.1"].text == "с всё будет удалено"
    assert not any(c.startswith("review_duration") for c in clips)
    letters = clip_texts({"keyboard_letters": "ӘІ ЙЦЪ"}, "kk")
    assert letters["letter-4d9"].text == "ә" and letters["letter-439"].letter
    assert letters["letter-44a"].voice == "ru"  # Kazakh's voice cannot name ъ


async def test_a_human_recording_replaces_the_render_and_an_edit_renders_again(
    tmp_path: Path,
) -> None:
    speech = Speech(tmp_path, {"kk": {"done": "Дайын"}, "ru": {"done": "Готово"}})
    rendered = await speech.path("ru", "done")
    recorded = tmp_path / "recordings" / "ru" / "done.wav"
    recorded.parent.mkdir(parents=True)
    recorded.write_bytes(rendered.read_bytes())
    assert await speech.path("ru", "done") == recorded
    assert await speech.path("kk", "done") != tmp_path / "recordings" / "kk" / "done.wav"
    # A changed text makes a new render, and the old one goes: one file per clip.
    edited = Speech(tmp_path, {"kk": {"done": "Болды"}, "ru": {"done": "Готово"}})
    new = await edited.path("kk", "done")
    assert sorted(p.name for p in (tmp_path / "cache" / "kk").iterdir()) == [new.name]


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_the_gateway_serves_a_clip_as_wav(booth: Booth, http: Any, lang: str) -> None:
    response = await http.get(f"{booth.url}/kiosk/speech/{lang}/start_title.wav")
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    plausible(catalogs()[lang]["start_title"], response.content)
    digit = await http.get(f"{booth.url}/kiosk/speech/{lang}/num-4.wav")
    assert digit.status_code == 200
    plausible("4", digit.content)


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_an_official_is_said_by_name_post_and_competence(
    booth: Booth, http: Any, lang: str
) -> None:
    """A blind citizen chooses whom to address by ear: each card has its own clip."""
    _, token = booth.kiosk_add()
    auth = {"Authorization": f"Bearer {token}"}
    officials = (await http.get(f"{booth.url}/api/v1/officials", headers=auth)).json()
    official = next(o for o in officials["officials"] if o["id"] == "deputy-housing")
    response = await http.get(f"{booth.url}/kiosk/speech/{lang}/official-deputy-housing.wav")
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    text = ". ".join(official[f][lang] for f in ("full_name", "position", "competence"))
    plausible(text, response.content, f"{lang}/official-deputy-housing")
    # Long enough to hold the whole card, not just the name.
    seconds, _ = wav_facts(response.content)
    assert seconds > 0.04 * len(text), (seconds, text)
    unknown = await http.get(f"{booth.url}/kiosk/speech/{lang}/official-nobody-here.wav")
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "kk/no_such_message.wav",
        "en/start_title.wav",
        "ru/start_title.mp3",
        "ru/num-99.wav",
        "ru/Привет.wav",
        "ru/..%2Fkk%2Fstart_title.wav",
    ],
)
async def test_only_catalog_clips_are_spoken(booth: Booth, http: Any, path: str) -> None:
    response = await http.get(f"{booth.url}/kiosk/speech/{path}")
    assert response.status_code == 404
    if response.headers["content-type"].startswith("application/json"):
        message = response.json()["error"]["message"]
        assert message["kk"] and message["ru"]


@pytest.mark.parametrize("lang", ["kk", "ru"])
async def test_a_reference_entry_is_said_whole_from_the_gateways_copy(
    booth: Booth, http: Any, lang: str
) -> None:
    """An entry is dynamic text: rendered from the published entry at the first request."""
    url = f"{booth.url}/kiosk/speech/{lang}/reference-address-certificate.wav"
    for _ in range(100):  # the demo set reaches the gateway's copy soon after the start
        response = await http.get(url)
        if response.status_code == 200:
            break
        await asyncio.sleep(0.2)
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    seconds, peak = wav_facts(response.content)
    # The question and the whole answer, not the question alone.
    assert peak > 2000 and seconds > 6, seconds
    unknown = await http.get(f"{booth.url}/kiosk/speech/{lang}/reference-no-such-entry.wav")
    assert unknown.status_code == 404
