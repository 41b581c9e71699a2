"""A reference entry printed on the receipt paper: the same fonts, layout engine and QR code as
the receipt, in the language the citizen read it in, with the QR of its page on /help."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from dialog_contracts import ReferencePrintRequested, richtext
from dialog_contracts.common import Language

from .fonts import find_fonts
from .layout import Flow, Layout, Sizes, draw_layout
from .qr import qr_image

TEXTS: dict[Language, dict[str, str]] = {
    "kk": {
        "system": "«Диалог» — жиі қойылатын сұрақтар",
        "documents": "Қандай құжаттар алу керек",
        "where": "Қайда жүгіну керек",
        "office": "Мекеме",
        "address": "Мекенжай",
        "hours": "Жұмыс уақыты",
        "phone": "Телефон",
        "online": "Онлайн қызмет",
        "qr_hint": "Бұл анықтаманы телефоннан ашу үшін QR-кодты сканерлеңіз",
    },
    "ru": {
        "system": "«Диалог» — частые вопросы",
        "documents": "Какие документы взять",
        "where": "Куда обращаться",
        "office": "Учреждение",
        "address": "Адрес",
        "hours": "Часы работы",
        "phone": "Телефон",
        "online": "Онлайн-услуга",
        "qr_hint": "Наведите камеру телефона на QR-код, чтобы открыть эту справку",
    },
}


def layout_sheet(
    request: ReferencePrintRequested, *, width: int = 576, font_dir: Path | None = None
) -> Layout:
    fonts = find_fonts(font_dir)
    s = Sizes(scale=min(max(width / 576, 0.8), 2.0))
    flow = Flow(width, fonts, s)
    lang = request.language
    t = TEXTS[lang]
    entry = request.entry
    gap = s.gap

    def heading(key: str) -> None:
        flow.gap(gap)
        flow.text(t[key], size=s.body, bold=True, role="heading", language=lang)
        flow.gap(gap // 3)

    def markup(text: str, role: str) -> None:
        for line, bold in richtext.to_lines(text):
            if line:
                flow.text(line, size=s.body, bold=bold, role=role, language=lang)
            else:
                flow.gap(gap // 2)

    flow.text(t["system"], size=s.small, align="center", role="system", language=lang)
    flow.gap(gap // 2)
    flow.text(request.center.get(lang), size=s.small, align="center", role="center", language=lang)
    flow.gap(gap)
    flow.rule(thickness=2)
    flow.gap(gap)
    if entry.topic_name:
        flow.text(entry.topic_name.get(lang), size=s.small, role="topic", language=lang)
        flow.gap(gap // 3)
    flow.text(
        entry.question.get(lang), size=s.secondary_value, bold=True, role="question", language=lang
    )
    flow.gap(gap)
    markup(entry.answer.get(lang), "answer")
    if entry.documents:
        heading("documents")
        markup(entry.documents.get(lang), "documents")
    place = entry.place
    if place is not None:
        rows = [
            ("office", place.office.get(lang) if place.office else ""),
            ("address", place.address.get(lang) if place.address else ""),
            ("hours", place.hours.get(lang) if place.hours else ""),
            ("phone", place.phone or ""),
        ]
        if any(value for _, value in rows):
            heading("where")
            for key, value in rows:
                if value:
                    flow.text(f"{t[key]}: {value}", size=s.body, role=key, language=lang)
    if entry.service_url:
        heading("online")
        flow.text(entry.service_url, size=s.small, bold=True, role="service_url", language=lang)
    flow.gap(gap)
    flow.rule(thickness=1)
    qr, module = qr_image(
        request.page_url, side=round(flow.content_width * 0.42), room=flow.content_width
    )
    flow.gap(max(gap, 4 * module))
    flow.picture(qr, role="qr")
    flow.gap(max(gap, 4 * module))
    flow.text(t["qr_hint"], size=s.small, align="center", role="qr_hint", language=lang)
    flow.text(request.page_url, size=s.small, align="center", role="page_url", language=lang)
    return flow.finish()


def render_sheet(
    request: ReferencePrintRequested, *, width: int = 576, font_dir: Path | None = None
) -> Image.Image:
    return draw_layout(
        layout_sheet(request, width=width, font_dir=font_dir), fonts=find_fonts(font_dir)
    )
