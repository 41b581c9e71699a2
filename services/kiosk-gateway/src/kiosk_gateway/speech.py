"""The booth's spoken prompts: a WAV per catalog message, number and keyboard letter, per language.

A closed kiosk must say what it shows (EN 301 549 §5.1.3.1). The clips are rendered offline by
Debian's espeak-ng from the same catalogs as the screen text, so speech and screen never disagree,
and kept on disk; a human recording dropped in `<speech dir>/recordings/<lang>/<clip>.wav`
replaces a render. A clip is named, never spelled out by the request: the booth can say nothing
the catalog does not hold, and the cache is bounded by the catalog (one file per clip and
language; a changed text replaces its old render).

Clip names: `<key>` for a message; `<key>.<i>` for the i-th piece of a message with `{…}`
placeholders (the page speaks the values between the pieces); `num-<n>` for the numbers 0-60
(digit by digit for a receipt's number, whole for the countdown); `letter-<hex>` for a letter of
that language's keyboard.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from dialog_contracts import richtext

LANGUAGES = ("kk", "ru")
NUMBERS = range(61)
# espeak-ng's default 175 words a minute is quick for an elderly listener in a public hall.
RATE_WPM = 150
RENDER_TIMEOUT_S = 20.0
_PLACEHOLDER = re.compile(r"\{\w+\}")
_LETTER = re.compile(r"[^\W\d_]")
_CLIP = re.compile(r"^[a-z0-9_]+(\.[0-9])?$|^num-[0-9]{1,2}$|^letter-[0-9a-f]{2,5}$")
# An official's card: name, position and competence, said from the gateway's own directory.
_OFFICIAL = re.compile(r"^official-([a-z0-9-]{2,40})$")
# A reference entry: its question, answer, documents and where to apply, from the gateway's
# copy of the published entries. Rendered at the first request and cached like a card; an
# edited entry is a new text, so a new render, and the old one goes.
_REFERENCE = re.compile(r"^reference-([a-z0-9][a-z0-9-]{0,79})$")
# Marks on buttons that a voice would read out as noise or skip awkwardly.
_SYMBOLS = str.maketrans({"⌫": " ", "▶": " ", "«": " ", "»": " ", "·": ",", "…": "."})


# espeak-ng's Kazakh voice has no names for ъ and ь (Kazakh words do not use them): the
# Russian voice names them. The Russian voice spells a Kazakh word letter by letter ("Қазақша"
# on the Russian screen): the Kazakh voice says it.
_KAZAKH_ONLY = re.compile(r"[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")
_RUSSIAN_ONLY = frozenset("ъь")


def _voice(lang: str, text: str) -> str:
    if lang == "kk" and text.lower() in _RUSSIAN_ONLY:
        return "ru"
    if lang == "ru" and _KAZAKH_ONLY.search(text):
        return "kk"
    return lang


def clip_of(name: str) -> str | None:
    """The clip a file name asks for (`<clip>.wav`), or None when it names none."""
    stem = name.removesuffix(".wav")
    if not name.endswith(".wav"):
        return None
    named = _CLIP.match(stem) or _OFFICIAL.match(stem) or _REFERENCE.match(stem)
    return stem if named else None


@dataclass(frozen=True)
class Clip:
    text: str
    voice: str
    # A keyboard letter is said by its name ("эль"), not as a sound.
    letter: bool = False

    def ssml(self) -> str:
        if self.letter:
            return f'<speak><say-as interpret-as="characters">{escape(self.text)}</say-as></speak>'
        return f"<speak>{escape(self.text)}</speak>"


class SpeechUnavailable(RuntimeError):
    """espeak-ng is missing or failed: the page stays silent rather than the booth failing."""


def speakable(text: str) -> bool:
    return bool(_LETTER.search(text))


def _tidy(text: str) -> str:
    return " ".join(text.translate(_SYMBOLS).split())


def clip_texts(catalog: dict[str, str], lang: str) -> dict[str, Clip]:
    """Every clip of one language's catalog and what it says."""
    clips: dict[str, Clip] = {}
    for key, text in catalog.items():
        if key == "keyboard_letters":
            for letter in dict.fromkeys(text.replace(" ", "").lower()):
                if speakable(letter):
                    clips[f"letter-{ord(letter):x}"] = Clip(
                        letter, _voice(lang, letter), letter=True
                    )
            continue
        pieces = _PLACEHOLDER.split(text)
        if len(pieces) == 1:
            if speakable(text):
                clips[key] = Clip(_tidy(text), _voice(lang, text))
            continue
        for i, piece in enumerate(pieces):
            if speakable(piece):
                clips[f"{key}.{i}"] = Clip(_tidy(piece), _voice(lang, piece))
    for n in NUMBERS:
        clips[f"num-{n}"] = Clip(str(n), lang)
    return clips


Official = Callable[[str], Awaitable[dict[str, Any] | None]]


def official_clip(official: dict[str, Any], lang: str) -> Clip | None:
    """What a blind citizen hears on an official's card: who, their post, what they handle."""
    if not official.get("active", True):
        return None
    parts = [official.get(field, {}).get(lang, "") for field in ("full_name", "position")]
    parts.append(official.get("competence", {}).get(lang, ""))
    text = _tidy(". ".join(p.strip().rstrip(".") for p in parts if p and p.strip()))
    return Clip(text, _voice(lang, text)) if speakable(text) else None


Entry = Callable[[str], Awaitable[dict[str, Any] | None]]


def reference_clip(doc: dict[str, Any], lang: str) -> Clip | None:
    """What a blind citizen hears on a reference entry: all that the screen shows of it."""
    entry = doc.get("entry") or {}

    def said(field: str) -> str:
        value = entry.get(field) or {}
        return richtext.to_plain(str(value.get(lang, ""))).replace("\n", ". ")

    place = entry.get("place") or {}
    parts = [said("question"), said("answer"), said("documents")]
    parts += [str((place.get(k) or {}).get(lang, "")) for k in ("office", "address", "hours")]
    text = _tidy(". ".join(p.strip().rstrip(".") for p in parts if p and p.strip()))
    return Clip(text, _voice(lang, text)) if speakable(text) else None


class Speech:
    """Finds or renders a clip; renders at most two at a time (the booth computer is small)."""

    def __init__(
        self,
        folder: Path,
        catalogs: dict[str, dict[str, str]],
        official: Official | None = None,
        entry: Entry | None = None,
    ) -> None:
        self.recordings = folder / "recordings"
        self.cache = folder / "cache"
        self.clips = {lang: clip_texts(catalogs[lang], lang) for lang in LANGUAGES}
        self.official = official
        self.entry = entry
        self._gate = asyncio.Semaphore(2)
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    def known(self, lang: str, clip: str) -> bool:
        return lang in self.clips and clip in self.clips[lang]

    async def said(self, lang: str, clip: str) -> Clip | None:
        """What `clip` says: a catalog message, or an official of the directory; else None."""
        if self.known(lang, clip):
            return self.clips[lang][clip]
        entry = _REFERENCE.match(clip)
        if entry is not None and lang in self.clips and self.entry is not None:
            found_entry = await self.entry(entry.group(1))
            return reference_clip(found_entry, lang) if found_entry is not None else None
        match = _OFFICIAL.match(clip)
        if lang not in self.clips or match is None or self.official is None:
            return None
        found = await self.official(match.group(1))
        return official_clip(found, lang) if found is not None else None

    def _rendered(self, lang: str, clip: str, said: Clip) -> Path:
        digest = hashlib.sha256(f"{said.voice}|{RATE_WPM}|{said.ssml()}".encode()).hexdigest()[:12]
        return self.cache / lang / f"{clip}-{digest}.wav"

    async def path(self, lang: str, clip: str, said: Clip | None = None) -> Path:
        """The clip's file: the human recording if there is one, else espeak-ng's render."""
        recorded = self.recordings / lang / f"{clip}.wav"
        if recorded.is_file():
            return recorded
        said = said or self.clips[lang][clip]
        target = self._rendered(lang, clip, said)
        if target.is_file():
            return target
        lock = self._locks.setdefault((lang, clip), asyncio.Lock())
        async with lock, self._gate:
            if not target.is_file():
                await self._render(said, target)
        return target

    async def _render(self, clip: Clip, target: Path) -> None:
        binary = shutil.which("espeak-ng")
        if binary is None:
            raise SpeechUnavailable("espeak-ng is not installed (scripts/system-packages.sh)")
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, suffix=".part")
        os.close(fd)
        try:
            process = await asyncio.create_subprocess_exec(
                *(binary, "-m", "-v", clip.voice, "-s", str(RATE_WPM), "-w", temp, "--stdin"),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
            try:
                _, stderr = await asyncio.wait_for(
                    process.communicate(clip.ssml().encode()), RENDER_TIMEOUT_S
                )
            except TimeoutError:
                process.kill()
                await process.wait()
                raise SpeechUnavailable("espeak-ng took too long") from None
            if process.returncode != 0 or Path(temp).stat().st_size <= 44:  # noqa: ASYNC240
                raise SpeechUnavailable(f"espeak-ng failed: {stderr.decode(errors='replace')}")
            # A render of an older text of this clip is dead weight now.
            for old in target.parent.glob(f"{target.name.rsplit('-', 1)[0]}-*.wav"):
                old.unlink(missing_ok=True)
            os.replace(temp, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)

    async def render_all(self) -> list[tuple[str, str]]:
        """Every clip of both languages on disk; returns those that could not be made."""
        failed: list[tuple[str, str]] = []
        for lang, clips in self.clips.items():
            for clip in clips:
                try:
                    await self.path(lang, clip)
                except SpeechUnavailable:
                    failed.append((lang, clip))
        return failed


def main() -> int:
    """`make speech`: render every clip into the speech folder ahead of the first citizen."""
    from dialog_platform.settings import CommonSettings

    from .pages import catalogs
    from .settings import KioskGatewaySettings

    folder = KioskGatewaySettings().speech_folder(CommonSettings().data_dir)
    speech = Speech(folder, catalogs())
    failed = asyncio.run(speech.render_all())
    total = sum(len(c) for c in speech.clips.values())
    print(f"{total - len(failed)} of {total} clips in {folder}")
    for lang, clip in failed:
        print(f"  missing: {lang}/{clip}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
