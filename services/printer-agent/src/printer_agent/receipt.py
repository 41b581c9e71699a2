"""The printed receipt (түбіртек / квитанция) as one raster image.

Thermal printers' text mode only knows single-byte code pages, none of which has the Kazakh
letters, so the whole receipt is drawn with Pillow in DejaVu Sans and printed as a bitmap.

Layout is computed first (`layout_receipt`) and drawn second (`render_receipt`), so that tests
and callers can see where every line went without reading pixels back.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import qrcode
import qrcode.constants
from PIL import Image, ImageDraw, ImageFont

from dialog_contracts.common import Language
from dialog_contracts.receipts import ReceiptRequested

__all__ = [
    "TEXTS",
    "FontNotFoundError",
    "Layout",
    "Picture",
    "ReceiptFonts",
    "Rule",
    "TextLine",
    "find_fonts",
    "layout_receipt",
    "load_font",
    "qr_code",
    "render_receipt",
    "wrap_text",
]

# One place for every printed phrase, so a translator sees both languages side by side and a
# test can check that the two dicts never drift apart.
TEXTS: dict[Language, dict[str, str]] = {
    "kk": {
        "system": "«Диалог» бейнеөтініш жүйесі",
        "title": "ТҮБІРТЕК",
        "subtitle": "Сіздің бейнеөтінішіңіз тіркелді",
        "reprint": "Қайта басылған дана №{copy}",
        "registration_number": "Тіркеу нөмірі",
        "access_code": "Қол жеткізу коды",
        "registered_at": "Тіркелген күні мен уақыты",
        "category": "Өтініш түрі",
        "category_question": "Сұрақ",
        "category_violation": "Заң бұзушылық туралы хабарлама",
        "addressee": "Өтініш кімге жолданды",
        "control_date": "Жауап берудің бақылау мерзімі",
        "how_to_title": "Жауапты қалай көруге болады",
        "how_to_booth": (
            "Кез келген «Диалог» кабинасында тіркеу нөмірі мен қол жеткізу кодын енгізіңіз"
        ),
        "how_to_web": "немесе сайтқа кіріңіз:",
        "qr_hint": "Сайтты ашу үшін QR-кодты телефон камерасымен сканерлеңіз",
        "keep": ("Түбіртекті жауап алғанша сақтаңыз: нөмір мен кодсыз жауапты көру мүмкін емес"),
    },
    "ru": {
        "system": "Система видеообращений «Диалог»",
        "title": "КВИТАНЦИЯ",
        "subtitle": "Ваше видеообращение зарегистрировано",
        "reprint": "Повторный экземпляр №{copy}",
        "registration_number": "Регистрационный номер",
        "access_code": "Код доступа",
        "registered_at": "Дата и время регистрации",
        "category": "Вид обращения",
        "category_question": "Вопрос",
        "category_violation": "Сообщение о нарушении закона",
        "addressee": "Кому адресовано",
        "control_date": "Контрольный срок ответа",
        "how_to_title": "Как узнать ответ",
        "how_to_booth": ("В любой кабине «Диалог» введите регистрационный номер и код доступа"),
        "how_to_web": "или откройте сайт:",
        "qr_hint": "Наведите камеру телефона на QR-код, чтобы открыть сайт",
        "keep": (
            "Сохраните квитанцию до получения ответа: без номера и кода ответ посмотреть нельзя"
        ),
    },
}

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

ALMATY_OFFSET = timezone(timedelta(hours=5), "UTC+05")


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


# --- layout -------------------------------------------------------------------------------


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
class _Sizes:
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


class _Flow:
    """Stacks blocks top to bottom within the content width."""

    def __init__(self, width: int, fonts: ReceiptFonts, sizes: _Sizes) -> None:
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
            width = _text_width(font, line)
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
        size = max_size
        while size > min_size and _text_width(self.font(size, True), text) > self.content_width:
            size -= 1
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


def _text_width(font: ImageFont.FreeTypeFont, text: str) -> int:
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
            if _text_width(font, candidate) <= max_width:
                current = candidate
                continue
            if current:
                lines.append(current)
                current = ""
            while _text_width(font, word) > max_width:
                head = _longest_fitting_prefix(word, font, max_width)
                lines.append(head)
                word = word[len(head) :]
            current = word
        lines.append(current)
    return lines


def _longest_fitting_prefix(word: str, font: ImageFont.FreeTypeFont, max_width: int) -> str:
    cut = 1
    while cut < len(word) and _text_width(font, word[: cut + 1]) <= max_width:
        cut += 1
    # Prefer a break right after punctuation if that keeps at least half of the line.
    for i in range(cut - 1, cut // 2 - 1, -1):
        if word[i] in _BREAK_AFTER:
            return word[: i + 1]
    return word[:cut]


def qr_code(url: str) -> qrcode.QRCode:
    """The QR code of the tracking address; medium error correction survives thermal smudges."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(url)
    code.make(fit=True)
    return code


def _qr_image(url: str, side: int, room: int) -> tuple[Image.Image, int]:
    """The QR code as a bitmap about `side` wide, and its module size in pixels.

    Modules are whole pixels, so all are the same size, as scanners expect; at least 3 where
    the code and its 4-module quiet zones fit in `room`, since smaller dots blur on thermal paper.
    """
    matrix: list[list[bool]] = qr_code(url).get_matrix()
    modules = len(matrix)
    module = max(1, min(max(3, side // modules), room // (modules + 8)))
    small = Image.new("1", (modules, modules), 1)
    small.putdata([0 if dark else 1 for row in matrix for dark in row])
    side = modules * module
    return small.resize((side, side), Image.Resampling.NEAREST), module


def _almaty() -> tzinfo:
    try:
        return ZoneInfo("Asia/Almaty")
    except ZoneInfoNotFoundError:
        # Without a tz database: Kazakhstan has used UTC+5 countrywide since March 2024.
        return ALMATY_OFFSET


def _local_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(_almaty()).strftime("%d.%m.%Y, %H:%M")


def _grouped_code(code: str) -> str:
    # 8 digits in two groups of four are easier to read off paper and type on the keypad.
    return f"{code[:4]} {code[4:]}" if len(code) == 8 else code


def layout_receipt(
    receipt: ReceiptRequested, *, width: int = 576, font_dir: Path | None = None
) -> Layout:
    if width < 200:
        raise ValueError(f"receipt width {width} px is too narrow to print on")
    fonts = find_fonts(font_dir)
    sizes = _Sizes(scale=min(max(width / 576, 0.8), 2.0))
    flow = _Flow(width, fonts, sizes)
    first: Language = receipt.language
    second: Language = "ru" if first == "kk" else "kk"
    _section(flow, receipt, first, primary=True)
    flow.gap(sizes.gap * 2)
    flow.rule(thickness=max(2, sizes.gap // 4), dashed=True)
    flow.gap(sizes.gap * 2)
    _section(flow, receipt, second, primary=False)
    return flow.finish()


def _section(flow: _Flow, r: ReceiptRequested, lang: Language, *, primary: bool) -> None:
    t = TEXTS[lang]
    s = flow.sizes
    gap = s.gap

    def label(key: str) -> None:
        flow.text(t[key], size=s.small, role="label", language=lang)
        flow.gap(gap // 3)

    def value(text: str, role: str = "value", bold: bool = True) -> None:
        flow.text(text, size=s.body, bold=bold, role=role, language=lang)
        flow.gap(round(gap * 1.5))

    flow.text(t["system"], size=s.small, align="center", role="system", language=lang)
    flow.gap(gap // 2)
    flow.text(
        r.center.get(lang), size=s.body, bold=True, align="center", role="center", language=lang
    )
    if r.copy_number > 1:
        # White on black, so that staff handing out a reprint notice it at a glance.
        flow.gap(gap)
        flow.text(
            t["reprint"].format(copy=r.copy_number),
            size=s.body,
            bold=True,
            align="center",
            role="reprint",
            language=lang,
            inverted=True,
        )
    flow.gap(gap)

    if primary:
        flow.text(t["title"], size=s.title, bold=True, align="center", role="title", language=lang)
        flow.gap(gap // 3)
        flow.text(t["subtitle"], size=s.body, align="center", role="subtitle", language=lang)
        flow.gap(gap)
        # The number and code are what the citizen must not lose: large, framed, centred.
        box = flow.begin_frame(max(2, gap // 4))
        flow.text(
            t["registration_number"], size=s.small, align="center", role="label", language=lang
        )
        flow.gap(gap // 2)
        flow.fitted_text(
            r.registration_number,
            max_size=s.number_max,
            min_size=s.body * 2,
            role="registration_number",
            language=lang,
        )
        flow.gap(gap)
        flow.text(t["access_code"], size=s.small, align="center", role="label", language=lang)
        flow.gap(gap // 2)
        flow.fitted_text(
            _grouped_code(r.access_code),
            max_size=s.code,
            min_size=round(s.body * 1.5),
            role="access_code",
            language=lang,
        )
        flow.end_frame(box)
        flow.gap(gap * 2)
    else:
        flow.text(
            t["subtitle"], size=s.body, bold=True, align="center", role="subtitle", language=lang
        )
        flow.gap(gap)
        label("registration_number")
        flow.text(
            r.registration_number,
            size=s.secondary_value,
            bold=True,
            role="registration_number",
            language=lang,
        )
        flow.gap(gap)
        label("access_code")
        flow.text(
            _grouped_code(r.access_code),
            size=s.secondary_value,
            bold=True,
            role="access_code",
            language=lang,
        )
        flow.gap(gap)

    label("registered_at")
    value(_local_time(r.recorded_at), role="registered_at")
    label("category")
    value(t[f"category_{r.category}"], role="category")
    label("addressee")
    flow.text(
        r.official_name.get(lang), size=s.body, bold=True, role="official_name", language=lang
    )
    flow.gap(gap // 3)
    value(r.official_position.get(lang), role="official_position", bold=False)
    label("control_date")
    value(r.control_date.strftime("%d.%m.%Y"), role="control_date")

    flow.gap(gap // 2)
    flow.rule(thickness=1)
    flow.gap(gap)
    flow.text(t["how_to_title"], size=s.body, bold=True, role="how_to_title", language=lang)
    flow.gap(gap // 2)
    flow.text(t["how_to_booth"], size=s.body, role="how_to_booth", language=lang)
    flow.gap(gap // 2)
    flow.text(t["how_to_web"], size=s.body, role="how_to_web", language=lang)
    flow.gap(gap // 3)
    flow.text(r.tracking_url, size=s.body, bold=True, role="tracking_url", language=lang)
    flow.gap(gap)

    if primary:
        qr, module = _qr_image(
            r.tracking_url, side=round(flow.content_width * 0.42), room=flow.content_width
        )
        # Scanners want a quiet zone of four modules around the code.
        flow.gap(max(gap, 4 * module))
        flow.picture(qr, role="qr")
        flow.gap(max(gap, 4 * module))
        flow.text(t["qr_hint"], size=s.small, align="center", role="qr_hint", language=lang)
        flow.gap(gap * 2)

    box = flow.begin_frame(2)
    flow.text(t["keep"], size=s.body, bold=True, align="center", role="keep", language=lang)
    flow.end_frame(box)


def render_receipt(
    receipt: ReceiptRequested, *, width: int = 576, font_dir: Path | None = None
) -> Image.Image:
    """The receipt as a 1-bit image exactly `width` pixels wide, black on white."""
    return draw_layout(
        layout_receipt(receipt, width=width, font_dir=font_dir), fonts=find_fonts(font_dir)
    )


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
        left = round(font.getbbox(line.text, mode="1")[0])
        draw.text(
            (line.x - min(0, left), line.y), line.text, font=font, fill=255 if line.inverted else 0
        )
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
    return canvas.point(lambda v: 255 if v >= 128 else 0).convert("1", dither=Image.Dither.NONE)
