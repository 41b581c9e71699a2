"""A reference entry on the receipt paper: Kazakh letters drawn, the markup's lists and bold,
where to apply, and the QR of its page."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from dialog_contracts import ReferencePrintRequested
from printer_agent.fonts import find_fonts, load_font
from printer_agent.sheet import TEXTS, layout_sheet, render_sheet


def glyph_bitmap(font: ImageFont.FreeTypeFont, char: str) -> bytes:
    size = round(font.size * 2)
    canvas = Image.new("L", (size, size), 255)
    ImageDraw.Draw(canvas).text((size // 4, size // 4), char, font=font, fill=0)
    return canvas.tobytes()


ENTRY = {
    "topic": "housing",
    "topic_name": {"kk": "Тұрғын үй", "ru": "Жильё"},
    "question": {"kk": "Тұрғын үй кезегіне қандай құжаттар керек?", "ru": "Какие документы нужны?"},
    "answer": {
        "kk": "Өтінішті **ХҚКО** арқылы беріңіз.\n\n- жеке куәлік\n- отбасы құрамы",
        "ru": "Заявление подаётся через **ЦОН**.\n\n- удостоверение\n- справка",
    },
    "place": {"office": {"kk": "Тұрғын үй басқармасы", "ru": "Управление жилья"}, "phone": "109"},
    "service_url": "https://egov.kz/cms/kk/services/housing",
}


def request(lang: str) -> ReferencePrintRequested:
    return ReferencePrintRequested.model_validate(
        {
            "print_id": "0" * 32,
            "kiosk_id": "demo",
            "entry_id": "housing-queue-documents",
            "language": lang,
            "center": {"kk": "Өскемен, №1 ХҚКО", "ru": "Усть-Каменогорск, ЦОН №1"},
            "entry": ENTRY,
            "page_url": f"https://dialog.example.kz/help/housing-queue-documents?lang={lang}",
        }
    )


def test_the_entry_is_printed_in_the_citizens_language_with_every_letter_drawn() -> None:
    layout = layout_sheet(request("kk"))
    lines = [line.text for line in layout.lines]
    assert "• жеке куәлік" in lines and "Өтінішті ХҚКО арқылы беріңіз." in " ".join(lines)
    assert any("Тұрғын үй басқармасы" in line for line in lines)
    assert not any("Заявление" in line for line in lines)
    assert [p.role for p in layout.pictures] == ["qr"]
    fonts = find_fonts()
    for bold in (False, True):
        font = load_font(fonts.bold if bold else fonts.regular, 30)
        notdef = glyph_bitmap(font, "\U0010fffd")
        used = {c for line in layout.lines if line.bold == bold for c in line.text} - {" "}
        assert not [c for c in used if glyph_bitmap(font, c) == notdef]
    image = render_sheet(request("kk"))
    assert image.width == 576 and image.mode in ("1", "L")
    gray = image.convert("L")
    for line in layout.lines:
        band = gray.crop((0, line.y, image.width, line.y + line.height))
        assert band.point(lambda v: 255 - v).getbbox() is not None, f"no ink for {line.text!r}"


def test_both_languages_have_the_same_phrases() -> None:
    assert TEXTS["kk"].keys() == TEXTS["ru"].keys()
    ru = layout_sheet(request("ru"))
    assert any(line.text == "Какие документы нужны?" for line in ru.lines)
    assert isinstance(render_sheet(request("ru")), Image.Image)


def test_a_redelivered_print_request_prints_nothing_twice(tmp_path: Path) -> None:
    from printer_agent.service import ReceiptPrinter

    folder = tmp_path / "receipts"
    printer = ReceiptPrinter(printer_url=f"png://{folder}", width=576, data_dir=tmp_path)
    first = printer.handle_sheet(request("kk"))
    again = printer.handle_sheet(request("kk"))
    assert first.printed and not again.printed and again.duplicate
    assert [p.name for p in folder.glob("*.png")] == [f"ref-{'0' * 32}.png"]
