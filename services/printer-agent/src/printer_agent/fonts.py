"""The receipt's fonts: DejaVu Sans, which has every Kazakh letter, found on the system."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

REGULAR_FILE = "DejaVuSans.ttf"
BOLD_FILE = "DejaVuSans-Bold.ttf"

# Debian/Ubuntu (fonts-dejavu-core), Fedora, Arch, Alpine; fc-match is asked after these.
DEFAULT_FONT_DIRS: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu-sans-fonts"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/local/share/fonts/dejavu"),
)


class FontNotFoundError(FileNotFoundError):
    """DejaVu Sans is not installed where we looked."""


@dataclass(frozen=True)
class ReceiptFonts:
    regular: Path
    bold: Path


def find_fonts(font_dir: Path | None = None) -> ReceiptFonts:
    """Locate DejaVu Sans regular and bold.

    An explicit `font_dir` is taken at its word: no silent fallback to some other font that
    might lack the Kazakh letters.
    """
    if font_dir is not None:
        fonts = _fonts_in(font_dir)
        if fonts is None:
            raise FontNotFoundError(
                f"{REGULAR_FILE} and {BOLD_FILE} are not both in the configured font "
                f"directory {font_dir}"
            )
        return fonts
    for directory in DEFAULT_FONT_DIRS:
        fonts = _fonts_in(directory)
        if fonts is not None:
            return fonts
    fonts = _fonts_from_fontconfig()
    if fonts is not None:
        return fonts
    searched = ", ".join(str(d) for d in DEFAULT_FONT_DIRS)
    raise FontNotFoundError(
        f"DejaVu Sans ({REGULAR_FILE}, {BOLD_FILE}) not found in {searched} nor by fc-match; "
        "install fonts-dejavu-core or configure the font directory"
    )


def _fonts_in(directory: Path) -> ReceiptFonts | None:
    regular, bold = directory / REGULAR_FILE, directory / BOLD_FILE
    if regular.is_file() and bold.is_file():
        return ReceiptFonts(regular=regular, bold=bold)
    return None


def _fonts_from_fontconfig() -> ReceiptFonts | None:
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return None

    def match(pattern: str) -> Path | None:
        try:
            found = subprocess.run(  # noqa: S603 - fixed program and arguments
                [fc_match, "--format=%{family}\n%{file}", pattern],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        family, _, file = found.stdout.partition("\n")
        # fc-match always answers with its best substitute; only DejaVu Sans itself will do.
        if "DejaVu Sans" not in family.split(","):
            return None
        path = Path(file.strip())
        return path if path.is_file() else None

    regular = match("DejaVu Sans:style=Book")
    bold = match("DejaVu Sans:style=Bold")
    if regular is None or bold is None:
        return None
    return ReceiptFonts(regular=regular, bold=bold)


@lru_cache(maxsize=64)
def load_font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)
