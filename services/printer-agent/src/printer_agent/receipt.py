"""The printed receipt (түбіртек / квитанция): what it says, in which order, in both languages.

Thermal printers' text mode only knows single-byte code pages, none of which has the Kazakh
letters, so the whole receipt is drawn with Pillow in DejaVu Sans (`fonts`) by the paper layout
engine (`layout`) and printed as a bitmap.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

from dialog_contracts.common import Language
from dialog_contracts.receipts import ReceiptRequested
from dialog_platform.calendar import ALMATY

from .fonts import find_fonts
from .layout import Flow, Layout, Sizes, draw_layout
from .qr import qr_image

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


def _local_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ALMATY).strftime("%d.%m.%Y, %H:%M")


def _grouped_code(code: str) -> str:
    # 8 digits in two groups of four are easier to read off paper and type on the keypad.
    return f"{code[:4]} {code[4:]}" if len(code) == 8 else code


def layout_receipt(
    receipt: ReceiptRequested, *, width: int = 576, font_dir: Path | None = None
) -> Layout:
    if width < 200:
        raise ValueError(f"receipt width {width} px is too narrow to print on")
    fonts = find_fonts(font_dir)
    sizes = Sizes(scale=min(max(width / 576, 0.8), 2.0))
    flow = Flow(width, fonts, sizes)
    first: Language = receipt.language
    second: Language = "ru" if first == "kk" else "kk"
    _section(flow, receipt, first, primary=True)
    flow.gap(sizes.gap * 2)
    flow.rule(thickness=max(2, sizes.gap // 4), dashed=True)
    flow.gap(sizes.gap * 2)
    _section(flow, receipt, second, primary=False)
    return flow.finish()


def _section(flow: Flow, r: ReceiptRequested, lang: Language, *, primary: bool) -> None:
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
        qr, module = qr_image(
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
