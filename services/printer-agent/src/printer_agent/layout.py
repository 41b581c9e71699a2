"""A layout engine for a strip of thermal paper: text, rules, frames and pictures, top to bottom.

Layout is computed first (`Flow` → `Layout`) and drawn second (`draw_layout`), so that tests and
callers can see where every line went without reading pixels back.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Literal

from PIL import Image, ImageDraw, ImageFont

from dialog_contracts.common import Language

from .fonts import ReceiptFonts, load_font


@dataclass(frozen=True)
class TextLine:
    text: str
    x: int
    y: int
    width: int
    height: int
    size: int
    bold: bool
    role: str
    language: Language | None
    inverted: bool = False


@dataclass(frozen=True)
class Rule:
    y: int
    x0: int
    x1: int
    thickness: int
    dashed: bool


@dataclass(frozen=True)
class Frame:
    x0: int
    y0: int
    x1: int
    y1: int
    thickness: int


@dataclass(frozen=True)
class Picture:
    image: Image.Image
    x: int
    y: int
    role: str


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    margin: int
    lines: tuple[TextLine, ...]
    rules: tuple[Rule, ...]
    frames: tuple[Frame, ...]
    bands: tuple[Frame, ...]
    pictures: tuple[Picture, ...]


Align = Literal["left", "center"]


@dataclass
class Sizes:
    """Font sizes and spacing in pixels for one paper width."""

    scale: float
    small: int = field(init=False)
    body: int = field(init=False)
    title: int = field(init=False)
    code: int = field(init=False)
    number_max: int = field(init=False)
    secondary_value: int = field(init=False)
    margin: int = field(init=False)
    gap: int = field(init=False)

    def __post_init__(self) -> None:
        def px(value: float) -> int:
            return round(value * self.scale)

        self.small = px(19)
        self.body = px(23)
        self.title = px(34)
        self.code = px(46)
        self.number_max = px(72)
        self.secondary_value = px(30)
        self.margin = px(14)
        self.gap = px(12)


class Flow:
    """Stacks blocks top to bottom within the content width."""

    def __init__(self, width: int, fonts: ReceiptFonts, sizes: Sizes) -> None:
        self.width = width
        self.fonts = fonts
        self.sizes = sizes
        self.left = sizes.margin
        self.right = width - sizes.margin
        self.y = sizes.margin
        self.lines: list[TextLine] = []
        self.rules: list[Rule] = []
        self.frames: list[Frame] = []
        self.bands: list[Frame] = []
        self.pictures: list[Picture] = []

    @property
    def content_width(self) -> int:
        return self.right - self.left

    def font(self, size: int, bold: bool) -> ImageFont.FreeTypeFont:
        return load_font(self.fonts.bold if bold else self.fonts.regular, size)

    def fitted_size(self, text: str, *, max_size: int, min_size: int) -> int:
        """The largest size up to `max_size` at which bold `text` fits the line; else `min_size`.

        A line's width grows about in proportion to its size, so the size is guessed from the
        width at `max_size`, then checked a size at a time. Each size is a face of its own, which
        maps the font file again: trying every size down from `max_size` loaded 18 faces over
        300 receipts (their numbers differ in width) where two or three a receipt do.
        """

        def width(size: int) -> int:
            return text_width(self.font(size, True), text)

        widest = width(max_size)
        if widest <= self.content_width:
            return max_size
        size = max(min_size, min(max_size - 1, max_size * self.content_width // widest))
        if width(size) <= self.content_width:
            while size + 1 < max_size and width(size + 1) <= self.content_width:
                size += 1
            return size
        while size > min_size and width(size) > self.content_width:
            size -= 1
        return size

    def gap(self, pixels: int) -> None:
        self.y += pixels

    def text(
        self,
        text: str,
        *,
        size: int,
        bold: bool = False,
        align: Align = "left",
        role: str,
        language: Language | None,
        leading: float = 1.18,
        inverted: bool = False,
    ) -> None:
        font = self.font(size, bold)
        ascent, descent = font.getmetrics()
        height = ascent + descent
        step = max(height, round(size * leading))
        band_top, pad = self.y, height // 4
        if inverted:
            self.y += pad
        for line in wrap_text(text, font, self.content_width):
            width = text_width(font, line)
            x = self.left + (self.content_width - width) // 2 if align == "center" else self.left
            self.lines.append(
                TextLine(line, x, self.y, width, height, size, bold, role, language, inverted)
            )
            self.y += step
        if inverted:
            self.y += pad
            self.bands.append(Frame(self.left, band_top, self.right, self.y, 0))

    def fitted_text(
        self,
        text: str,
        *,
        max_size: int,
        min_size: int,
        role: str,
        language: Language | None,
    ) -> None:
        """One bold centred line as large as fits, wrapping only if even `min_size` does not."""
        size = self.fitted_size(text, max_size=max_size, min_size=min_size)
        self.text(
            text, size=size, bold=True, align="center", role=role, language=language, leading=1.05
        )

    def rule(self, *, thickness: int = 2, dashed: bool = False) -> None:
        self.rules.append(Rule(self.y, self.left, self.right, thickness, dashed))
        self.y += thickness

    def picture(self, image: Image.Image, role: str) -> None:
        x = self.left + (self.content_width - image.width) // 2
        self.pictures.append(Picture(image, x, self.y, role))
        self.y += image.height

    def begin_frame(self, thickness: int) -> tuple[int, int]:
        """Open a box; its content is inset so nothing touches the border."""
        top = self.y
        inset = thickness + self.sizes.gap
        self.left += inset
        self.right -= inset
        self.y += inset
        return top, thickness

    def end_frame(self, opened: tuple[int, int]) -> None:
        top, thickness = opened
        inset = thickness + self.sizes.gap
        self.left -= inset
        self.right += inset
        self.y += inset
        self.frames.append(Frame(self.left, top, self.right, self.y, thickness))

    def finish(self) -> Layout:
        return Layout(
            width=self.width,
            height=self.y + self.sizes.margin,
            margin=self.sizes.margin,
            lines=tuple(self.lines),
            rules=tuple(self.rules),
            frames=tuple(self.frames),
            bands=tuple(self.bands),
            pictures=tuple(self.pictures),
        )


# Fonts come from load_font's cache and most of a receipt's words are the same on every
# receipt, so measuring each (word, font) once takes most of the layout's time off every print.
@functools.lru_cache(maxsize=8192)
def text_width(font: ImageFont.FreeTypeFont, text: str) -> int:
    # The ink box as drawn without anti-aliasing (hinting can shift a stem a pixel left), not
    # just the advance: an overhang past either end would otherwise go unmeasured.
    left, _, right, _ = font.getbbox(text, mode="1")
    return max(0, round(right - min(0, left)), round(font.getlength(text)))


# Where an over-long token (a web address, a long number) may be broken.
_BREAK_AFTER = "/-.?&=_"


def wrap_text(text: str, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    """Greedy word wrap; a word longer than the line is split, preferably after punctuation."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if text_width(font, candidate) <= max_width:
                current = candidate
                continue
            if current:
                lines.append(current)
                current = ""
            while text_width(font, word) > max_width:
                head = _longest_fitting_prefix(word, font, max_width)
                lines.append(head)
                word = word[len(head) :]
            current = word
        lines.append(current)
    return lines


def _longest_fitting_prefix(word: str, font: ImageFont.FreeTypeFont, max_width: int) -> str:
    cut = 1
    while cut < len(word) and text_width(font, word[: cut + 1]) <= max_width:
        cut += 1
    # Prefer a break right after punctuation if that keeps at least half of the line.
    for i in range(cut - 1, cut // 2 - 1, -1):
        if word[i] in _BREAK_AFTER:
            return word[: i + 1]
    return word[:cut]


# Most lines (headings, labels, the instructions) are the same on every receipt: each is
# rasterised once, which was half of a receipt's drawing time, then only pasted. A receipt
# has about forty such lines a language; its own (number, code, dates) pass through the
# cache and are the first to leave it. Kept packed, eight dots a byte: Pillow holds a 1-bit
# image a byte a dot, and the full cache held 1.8 MB of them.
@functools.lru_cache(maxsize=128)
def _packed_ink(font: ImageFont.FreeTypeFont, text: str) -> tuple[tuple[int, int], bytes, int]:
    left, top, right, bottom = font.getbbox(text, mode="1")
    # A glyph that overhangs to the left is moved right, as `text_width` measured it.
    dx, dy = -min(0, round(left)), -min(0, round(top))
    ink = Image.new("1", (max(1, round(right) + dx), max(1, round(bottom) + dy)), 0)
    draw = ImageDraw.Draw(ink)
    draw.fontmode = "1"
    draw.text((dx, dy), text, font=font, fill=1)
    return ink.size, ink.tobytes(), dy


def _text_ink(font: ImageFont.FreeTypeFont, text: str) -> tuple[Image.Image, int]:
    """The line's dots as a mask with its left edge at the line's x, and how far it rises above."""
    size, dots, rise = _packed_ink(font, text)
    return Image.frombytes("1", size, dots), rise


def draw_layout(layout: Layout, *, fonts: ReceiptFonts) -> Image.Image:
    canvas = Image.new("L", (layout.width, layout.height), 255)
    draw = ImageDraw.Draw(canvas)
    for band in layout.bands:
        draw.rectangle((band.x0, band.y0, band.x1 - 1, band.y1 - 1), fill=0)
    # Hinted, unsmoothed glyphs: a thermal head prints dots, and thresholding anti-aliased
    # edges later would leave ragged strokes.
    draw.fontmode = "1"
    for line in layout.lines:
        font = load_font(fonts.bold if line.bold else fonts.regular, line.size)
        ink, top = _text_ink(font, line.text)
        canvas.paste(255 if line.inverted else 0, (line.x, line.y - top), ink)
    for rule in layout.rules:
        if rule.dashed:
            dash = rule.thickness * 5
            for x in range(rule.x0, rule.x1, dash * 2):
                draw.rectangle(
                    (x, rule.y, min(x + dash, rule.x1) - 1, rule.y + rule.thickness - 1), fill=0
                )
        else:
            draw.rectangle((rule.x0, rule.y, rule.x1 - 1, rule.y + rule.thickness - 1), fill=0)
    for frame in layout.frames:
        draw.rounded_rectangle(
            (frame.x0, frame.y0, frame.x1 - 1, frame.y1 - 1),
            radius=frame.thickness * 4,
            outline=0,
            width=frame.thickness,
        )
    for picture in layout.pictures:
        canvas.paste(picture.image.convert("L"), (picture.x, picture.y))
    # Without dithering Pillow thresholds at 128 (dark below, paper from there): the same dots
    # as a `point` to 0/255 first, without its pass over the whole sheet.
    return canvas.convert("1", dither=Image.Dither.NONE)
