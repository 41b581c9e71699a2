"""The receipt image: Kazakh glyphs, both languages, hierarchy, widths, the QR code."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw, ImageFont

from dialog_contracts.common import Language, Localized
from dialog_contracts.receipts import ReceiptRequested
from printer_agent.fonts import FontNotFoundError, find_fonts, load_font
from printer_agent.layout import (
    Flow,
    Layout,
    Sizes,
    TextLine,
    draw_layout,
    text_width,
    wrap_text,
)
from printer_agent.qr import qr_code
from printer_agent.receipt import TEXTS, layout_receipt, render_receipt

KAZAKH_LETTERS = "әғқңөұүһіӘҒҚҢӨҰҮҺІ"

LONG_POSITION_KK = (
    "Шығыс Қазақстан облысы әкімінің орынбасары, ішкі саясат, дін істері, жастар саясаты "
    "және әлеуметтік-мәдени даму мәселелері жөніндегі құзыретті лауазымды тұлға"
)


def make_receipt(**changes: Any) -> ReceiptRequested:
    fields: dict[str, Any] = {
        "appeal_id": "ap-7f3c",
        "kiosk_id": "ust-kamenogorsk-1",
        "copy_number": 1,
        "registration_number": "2025-000123-7",
        "access_code": "48213907",
        "language": "kk",
        "category": "question",
        "recorded_at": datetime(2025, 3, 12, 9, 7, tzinfo=UTC),
        "control_date": date(2025, 3, 26),
        "center": Localized(
            kk="Өскемен қ. №1 халыққа қызмет көрсету орталығы, «Диалог» кабинасы №1",
            ru="ЦОН №1 г. Усть-Каменогорска, кабина «Диалог» №1",
        ),
        "official_name": Localized(
            kk="Сапарбаев Бердібек Мәжитұлы", ru="Сапарбаев Бердыбек Машбекович"
        ),
        "official_position": Localized(
            kk=LONG_POSITION_KK,
            ru="Заместитель акима Восточно-Казахстанской области по вопросам внутренней "
            "политики и социальной сферы",
        ),
        "tracking_url": "https://dialog.vko.gov.kz/track",
    }
    fields.update(changes)
    return ReceiptRequested(**fields)


def glyph_bitmap(font: ImageFont.FreeTypeFont, char: str) -> bytes:
    size = round(font.size * 2)
    canvas = Image.new("L", (size, size), 255)
    ImageDraw.Draw(canvas).text((size // 4, size // 4), char, font=font, fill=0)
    return canvas.tobytes()


def section_text(layout: Layout, language: str) -> str:
    return " ".join(line.text for line in layout.lines if line.language == language)


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def ink_rows(image: Image.Image, line: TextLine, margin: int) -> int:
    """Height of the ink actually drawn within one text line's band."""
    band = image.crop((margin, line.y, image.width - margin, line.y + line.height))
    box = band.convert("L").point(lambda v: 255 - v).getbbox()
    assert box is not None, f"nothing drawn for {line.text!r}"
    return box[3] - box[1]


# --- glyphs --------------------------------------------------------------------------------


@pytest.mark.parametrize("bold", [False, True])
def test_every_kazakh_letter_has_its_own_glyph(bold: bool) -> None:
    fonts = find_fonts()
    font = load_font(fonts.bold if bold else fonts.regular, 40)
    # Two code points no font has: both must come out as the same .notdef box, which shows
    # that a missing glyph is recognisable by comparing bitmaps at all.
    notdef = glyph_bitmap(font, "\U0010fffd")
    assert notdef == glyph_bitmap(font, "\U0010fffc")
    assert notdef != glyph_bitmap(font, " "), ".notdef should draw a visible box"

    bitmaps = {letter: glyph_bitmap(font, letter) for letter in KAZAKH_LETTERS}
    blank = glyph_bitmap(font, " ")
    for letter, bitmap in bitmaps.items():
        assert bitmap != notdef, f"{letter!r} (U+{ord(letter):04X}) renders as a missing glyph"
        assert bitmap != blank, f"{letter!r} renders as nothing"
    assert len(set(bitmaps.values())) == len(KAZAKH_LETTERS), "two letters share one glyph"


def test_every_character_the_receipt_prints_has_a_glyph() -> None:
    fonts = find_fonts()
    receipt = make_receipt()
    layout = layout_receipt(receipt)
    for bold in (False, True):
        font = load_font(fonts.bold if bold else fonts.regular, 30)
        notdef = glyph_bitmap(font, "\U0010fffd")
        used = {c for line in layout.lines if line.bold == bold for c in line.text}
        used |= {c for texts in TEXTS.values() for text in texts.values() for c in text}
        missing = [c for c in sorted(used - {" "}) if glyph_bitmap(font, c) == notdef]
        assert not missing, f"no glyph for {missing}"


def test_both_languages_have_the_same_phrases() -> None:
    assert TEXTS["kk"].keys() == TEXTS["ru"].keys()
    for key in TEXTS["kk"]:
        assert TEXTS["kk"][key] != TEXTS["ru"][key] or key == "title", key
    # The Kazakh texts really are Kazakh, not Russian copied over.
    kazakh = "".join(TEXTS["kk"].values())
    assert len(set(kazakh) & set(KAZAKH_LETTERS)) >= 7


def test_font_directory_without_dejavu_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FontNotFoundError, match=r"DejaVuSans\.ttf"):
        find_fonts(tmp_path)
    with pytest.raises(FontNotFoundError):
        render_receipt(make_receipt(), font_dir=tmp_path)


def test_configured_font_directory_is_used(tmp_path: Path) -> None:
    system = find_fonts()
    (tmp_path / "DejaVuSans.ttf").write_bytes(system.regular.read_bytes())
    (tmp_path / "DejaVuSans-Bold.ttf").write_bytes(system.bold.read_bytes())
    fonts = find_fonts(tmp_path)
    assert fonts.regular.parent == tmp_path
    assert render_receipt(make_receipt(), font_dir=tmp_path).width == 576


# --- content -------------------------------------------------------------------------------


@pytest.mark.parametrize("first", ["kk", "ru"])
def test_citizens_language_first_then_the_other_below_a_separator(first: Language) -> None:
    second: Language = "ru" if first == "kk" else "kk"
    receipt = make_receipt(language=first)
    layout = layout_receipt(receipt)
    first_lines = [line for line in layout.lines if line.language == first]
    second_lines = [line for line in layout.lines if line.language == second]
    assert first_lines and second_lines
    last_of_first = max(line.y + line.height for line in first_lines)
    first_of_second = min(line.y for line in second_lines)
    assert last_of_first < first_of_second
    separators = [r for r in layout.rules if r.dashed]
    assert len(separators) == 1
    assert last_of_first <= separators[0].y < first_of_second

    for language, primary in ((first, True), (second, False)):
        text = squash(section_text(layout, language))
        phrases = TEXTS[language]
        keys = [
            "system",
            "subtitle",
            "registration_number",
            "access_code",
            "registered_at",
            "category",
            "category_question",
            "addressee",
            "control_date",
            "how_to_title",
            "how_to_booth",
            "how_to_web",
            "keep",
        ]
        if primary:
            keys += ["title", "qr_hint"]
        for key in keys:
            assert squash(phrases[key]) in text, (language, key)
        for localized in (receipt.center, receipt.official_name, receipt.official_position):
            assert squash(localized.get(language)) in text
        for value in (
            "2025-000123-7",
            "4821 3907",
            "12.03.2025, 14:07",
            "26.03.2025",
            "https://dialog.vko.gov.kz/track",
        ):
            assert value in text, (language, value)
        assert phrases["category_violation"] not in text


def test_every_laid_out_line_is_drawn() -> None:
    receipt = make_receipt(copy_number=2)
    layout = layout_receipt(receipt)
    image = draw_layout(layout, fonts=find_fonts())
    for line in layout.lines:
        if line.text.strip():
            ink_rows(image, line, layout.margin)


def test_registration_time_is_almaty_local_time() -> None:
    # 21:30 UTC is already the next day in Almaty (UTC+5).
    layout = layout_receipt(make_receipt(recorded_at=datetime(2025, 3, 12, 21, 30, tzinfo=UTC)))
    stamps = [line.text for line in layout.lines if line.role == "registered_at"]
    assert stamps == ["13.03.2025, 02:30"] * 2


def test_a_reprint_says_so_in_both_languages() -> None:
    first = layout_receipt(make_receipt(copy_number=1))
    assert not [line for line in first.lines if line.role == "reprint"]
    again = layout_receipt(make_receipt(copy_number=3))
    reprints = {line.language: line.text for line in again.lines if line.role == "reprint"}
    assert reprints == {
        "kk": TEXTS["kk"]["reprint"].format(copy=3),
        "ru": TEXTS["ru"]["reprint"].format(copy=3),
    }


# --- hierarchy and geometry ----------------------------------------------------------------


@pytest.mark.parametrize("width", [576, 384])
def test_registration_number_is_large(width: int) -> None:
    receipt = make_receipt()
    layout = layout_receipt(receipt, width=width)
    image = draw_layout(layout, fonts=find_fonts())
    number = next(
        line
        for line in layout.lines
        if line.role == "registration_number" and line.language == "kk"
    )
    body = next(
        line for line in layout.lines if line.role == "control_date" and line.language == "kk"
    )
    assert number.text == receipt.registration_number
    assert number.height >= 2 * body.height
    # Both are digits, so their ink heights compare like for like.
    assert ink_rows(image, number, layout.margin) >= 2 * ink_rows(image, body, layout.margin)
    code = next(
        line for line in layout.lines if line.role == "access_code" and line.language == "kk"
    )
    assert code.height >= 1.5 * body.height


@pytest.mark.parametrize("width", [576, 384])
def test_a_fitted_line_is_as_large_as_the_line_allows(width: int) -> None:
    # Numbers of one shape differ in width (a 1 is narrower than a 0): each gets its own size.
    flow = Flow(width, find_fonts(), Sizes(scale=width / 576))
    chosen = set()
    for number in ("2026-111111-1", "2026-000042-3", "2026-888888-8", "2026-1000000-0"):
        size = flow.fitted_size(number, max_size=flow.sizes.number_max, min_size=20)

        def fits(size: int, number: str = number) -> bool:
            return text_width(flow.font(size, True), number) <= flow.content_width

        assert fits(size), (number, size)
        assert size == flow.sizes.number_max or not fits(size + 1), (number, size)
        chosen.add(size)
    assert len(chosen) > 1, chosen  # else nothing here had to be made smaller to fit
    # Too long to fit even at the smallest size: the smallest, and the line wraps.
    assert flow.fitted_size("2026-" * 9, max_size=flow.sizes.number_max, min_size=20) == 20


@pytest.mark.parametrize("width", [576, 384])
@pytest.mark.parametrize("language", ["kk", "ru"])
def test_width_is_exact_and_nothing_reaches_past_the_margins(
    width: int, language: Language
) -> None:
    receipt = make_receipt(
        language=language,
        tracking_url="https://dialog.vko.gov.kz/track/answers/lookup?registration=2025-000123-7",
        official_position=Localized(
            kk=LONG_POSITION_KK + " " + "Әлеуметтік" * 6, ru="Руководитель управления " * 8
        ),
    )
    layout = layout_receipt(receipt, width=width)
    image = render_receipt(receipt, width=width)
    assert image.width == width
    assert image.mode in ("1", "L")
    for line in layout.lines:
        assert layout.margin <= line.x, line
        assert line.x + line.width <= width - layout.margin, line
    pixels = image.convert("L").load()
    assert pixels is not None
    for y in range(image.height):
        for x in [*range(layout.margin), *range(width - layout.margin, width)]:
            assert pixels[x, y] == 255, f"ink in the margin at ({x}, {y})"
    # Nothing cut off: the wrapped lines put back together are the whole text.
    for lang in ("kk", "ru"):
        for role, want in (
            ("official_position", receipt.official_position.get(lang)),
            ("tracking_url", receipt.tracking_url),
        ):
            got = "".join(
                line.text for line in layout.lines if line.role == role and line.language == lang
            )
            assert got.replace(" ", "") == want.replace(" ", "")


def test_image_is_black_on_white_raster() -> None:
    image = render_receipt(make_receipt())
    assert image.mode == "1"
    colours = {value for _, value in image.convert("L").getcolors() or []}
    assert colours == {0, 255}
    # Mostly paper: a thermal head heats only where there is ink.
    histogram = image.convert("L").histogram()
    assert histogram[255] > 0.75 * image.width * image.height


def test_long_web_address_breaks_after_punctuation() -> None:
    font = load_font(find_fonts().bold, 23)
    url = "https://dialog.vko.gov.kz/track/answers/lookup/by-registration/number/and/code"
    lines = wrap_text(url, font, 300)
    assert len(lines) > 1
    assert "".join(lines) == url
    assert all(font.getlength(line) <= 300 for line in lines)
    assert all(line[-1] in "/-." for line in lines[:-1]), lines


# --- QR code -------------------------------------------------------------------------------


def find_bitmap(image: Image.Image, matrix: list[list[bool]]) -> tuple[int, int, int] | None:
    """Where the QR matrix, scaled by a whole module size, sits in the image."""
    grey = image.convert("L")
    rows = [grey.crop((0, y, image.width, y + 1)).tobytes() for y in range(image.height)]
    n = len(matrix)
    for module in range(1, image.width // n + 1):
        expected = [
            b"".join((b"\x00" if dark else b"\xff") * module for dark in row) for row in matrix
        ]
        for y in range(image.height - n * module + 1):
            x = rows[y].find(expected[0])
            if x < 0:
                continue
            if all(
                rows[y + r].find(expected[r // module], x, x + n * module) == x
                for r in range(n * module)
            ):
                return x, y, module
    return None


@pytest.mark.parametrize("width", [576, 384])
def test_qr_code_encodes_the_tracking_address(width: int) -> None:
    url = "https://dialog.vko.gov.kz/track?n=2025-000123-7"
    code = qr_code(url)
    # The encoder's own record of what it encoded.
    assert [segment.data for segment in code.data_list] == [url.encode()]
    matrix: list[list[bool]] = code.get_matrix()
    assert qr_code("https://example.org/other").get_matrix() != matrix

    image = render_receipt(make_receipt(tracking_url=url), width=width)
    found = find_bitmap(image, matrix)
    assert found is not None, "the QR code of the tracking address is not on the receipt"
    x, y, module = found
    assert module >= 3, "modules this small do not survive thermal printing"
    size = len(matrix) * module
    quiet = image.convert("L").crop(
        (x - 4 * module, y - 4 * module, x + size + 4 * module, y + size + 4 * module)
    )
    ring = Image.new("L", quiet.size, 255)
    ring.paste(
        quiet.crop((4 * module, 4 * module, 4 * module + size, 4 * module + size)),
        (4 * module, 4 * module),
    )
    assert quiet.tobytes() == ring.tobytes(), "no quiet zone around the QR code"
