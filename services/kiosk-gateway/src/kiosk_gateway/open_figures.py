"""The open figures for everyone: `/open`, its downloads (CSV, JSON) and the README of the fields.

Routing computes the figures (it owns the cases); this gateway pulls them every few minutes into
its own database and serves every request from memory. A pull rather than an event, so that the
page is served while routing is down or restarting, a gateway started later fills itself at once,
and the public's load never reaches routing: a request costs one dictionary look-up.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from typing import Any

import httpx
from fastapi import APIRouter, Request, Response
from pymongo.asynchronous.database import AsyncDatabase

from dialog_platform.errors import ApiError
from dialog_platform.hardening import security_headers

from .pages import STATIC

log = logging.getLogger(__name__)
Doc = dict[str, Any]
COLLECTION = "open_figures"
LANGUAGES = ("kk", "ru")
RETRY_S = 5.0  # until the first snapshot arrives, and after a failed pull
CACHE_CONTROL = "public, max-age=60"
# The published columns, in this order, in both downloads. Renaming one breaks users' scripts.
COLUMNS = (
    "level",
    "month",
    "department_kk",
    "department_ru",
    "official_id",
    "name_kk",
    "name_ru",
    "position_kk",
    "position_ru",
    "received",
    "answered",
    "answered_on_time",
    "median_days_to_answer",
    "share_helpful",
    "suppressed",
)
FIGURES = ("received", "answered", "answered_on_time", "median_days_to_answer", "share_helpful")
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
FEW = "<5"

TEXT: dict[str, dict[str, str]] = {
    "kk": {
        "title": "Ашық көрсеткіштер: өтініштер және оларға жауаптар",
        "lead": "Әр бөлім және әр лауазымды тұлға бойынша ай сайынғы көрсеткіштер. "
        "Азаматтардың жеке деректері жоқ, тек сандар.",
        "month": "Ай",
        "show": "Көрсету",
        "departments": "Бөлімдер",
        "officials": "Лауазымды тұлғалар",
        "caption_departments": "Бөлімдер бойынша көрсеткіштер, {month}",
        "caption_officials": "Лауазымды тұлғалар бойынша көрсеткіштер, {month}",
        "department": "Бөлім",
        "official": "Лауазымды тұлға",
        "received": "Түскен өтініштер",
        "answered": "Жауап берілген",
        "answered_on_time": "Мерзімінде жауап берілген",
        "median_days_to_answer": "Жауапқа дейінгі күндер (медиана)",
        "share_helpful": "Пайдалы деп бағаланған үлесі",
        "trend": "Соңғы 12 айда түскен өтініштер",
        "trend_alt": "Соңғы 12 айда түскен өтініштер: {values}",
        "few": "<5",
        "few_note": "«<5» — көрсеткіштер жасырылған: айда 5-тен аз өтініш түскен, немесе "
        "жол осындай жолмен бірге жасырылған (айырмасы арқылы табылмауы үшін). Ешкімді "
        "анықтауға болмауы үшін.",
        "no_rating": "«Көмектесті» — бағаланған жауаптардың ішінде азамат «көмектесті» деп "
        "бағалағандардың үлесі; 5-тен аз баға болса, «—» көрсетілген.",
        "no_data": "Көрсеткіштер әлі дайын емес. Біраздан кейін қайта келіңіз.",
        "downloads": "Ашық деректер",
        "csv": "CSV жүктеу",
        "json": "JSON жүктеу",
        "readme": "Өрістердің сипаттамасы",
        "licence": "Лицензия: CC BY 4.0 — дереккөзді көрсетіп, еркін пайдалануға болады.",
        "updated": "Жаңартылған уақыты",
        "language": "Тіл",
        "readme_title": "Ашық деректер: өрістердің сипаттамасы",
        "readme_lead": "/open/data.csv (UTF-8, BOM, үтір) және /open/data.json бір жолдарды "
        "береді: әр ай үшін әр бөлімге бір жол және әр лауазымды тұлғаға бір жол. Соңғы 12 ай; "
        "көрсеткіштер бірнеше минут сайын жаңартылады.",
        "field": "Өріс",
        "meaning": "Мағынасы",
        "back": "Ашық көрсеткіштерге оралу",
        "f_level": "department — бөлім жолы, official — лауазымды тұлға жолы",
        "f_month": "Өтініш түскен ай, ЖЖЖЖ-АА (Алматы уақыты)",
        "f_department_kk": "Бөлімнің атауы, қазақша",
        "f_department_ru": "Бөлімнің атауы, орысша",
        "f_official_id": "Лауазымды тұлғаның тұрақты коды (бөлім жолында бос)",
        "f_name_kk": "Лауазымды тұлғаның аты-жөні, терминалда жарияланғандай, қазақша",
        "f_name_ru": "Лауазымды тұлғаның аты-жөні, орысша",
        "f_position_kk": "Лауазымы, қазақша",
        "f_position_ru": "Лауазымы, орысша",
        "f_received": "Осы айда түскен өтініштер саны; жасырылған жолда (suppressed) — «<5»",
        "f_answered": "Олардың ішінде қазірге дейін жауап берілгені",
        "f_answered_on_time": "Олардың ішінде бақылау мерзімінде жауап берілгені",
        "f_median_days_to_answer": "Түскеннен жауапқа дейінгі күнтізбелік күндер, медиана",
        "f_share_helpful": "Бағаланған жауаптардың ішінде «көмектесті» деп бағаланғанының "
        "үлесі (0–1); бағалар 5-тен аз болса — бос (null)",
        "f_suppressed": "true — 5-тен аз өтініш (немесе айырмасы арқылы табылмауы үшін "
        "жасырылған): бұл жолдың қалған сандары бос",
    },
    "ru": {
        "title": "Открытые показатели: обращения и ответы на них",
        "lead": "Показатели по каждому отделу и каждому должностному лицу за каждый месяц. "
        "Никаких персональных данных граждан, только числа.",
        "month": "Месяц",
        "show": "Показать",
        "departments": "Отделы",
        "officials": "Должностные лица",
        "caption_departments": "Показатели по отделам, {month}",
        "caption_officials": "Показатели по должностным лицам, {month}",
        "department": "Отдел",
        "official": "Должностное лицо",
        "received": "Поступило обращений",
        "answered": "Дан ответ",
        "answered_on_time": "Ответ в срок",
        "median_days_to_answer": "Дней до ответа (медиана)",
        "share_helpful": "Доля оценённых как полезные",
        "trend": "Поступило за последние 12 месяцев",
        "trend_alt": "Поступило за последние 12 месяцев: {values}",
        "few": "<5",
        "few_note": "«<5» — показатели скрыты: за месяц поступило меньше 5 обращений, или "
        "строка скрыта вместе с такой (чтобы её нельзя было вычислить вычитанием). Так никого "
        "нельзя узнать.",
        "no_rating": "«Помог» — доля ответов, которые заявители оценили как полезные, среди "
        "оценённых; при меньше чем 5 оценках показано «—».",
        "no_data": "Показатели ещё не готовы. Зайдите немного позже.",
        "downloads": "Открытые данные",
        "csv": "Скачать CSV",
        "json": "Скачать JSON",
        "readme": "Описание полей",
        "licence": "Лицензия: CC BY 4.0 — можно свободно использовать со ссылкой на источник.",
        "updated": "Обновлено",
        "language": "Язык",
        "readme_title": "Открытые данные: описание полей",
        "readme_lead": "/open/data.csv (UTF-8 с BOM, запятая) и /open/data.json содержат одни и "
        "те же строки: за каждый месяц по строке на отдел и на должностное лицо. Последние 12 "
        "месяцев; показатели обновляются каждые несколько минут.",
        "field": "Поле",
        "meaning": "Значение",
        "back": "Вернуться к открытым показателям",
        "f_level": "department — строка отдела, official — строка должностного лица",
        "f_month": "Месяц поступления обращения, ГГГГ-ММ (время Алматы)",
        "f_department_kk": "Название отдела на казахском",
        "f_department_ru": "Название отдела на русском",
        "f_official_id": "Постоянный код должностного лица (пусто в строке отдела)",
        "f_name_kk": "ФИО должностного лица, как на терминале, на казахском",
        "f_name_ru": "ФИО должностного лица на русском",
        "f_position_kk": "Должность на казахском",
        "f_position_ru": "Должность на русском",
        "f_received": "Сколько обращений поступило в этом месяце; в скрытой строке "
        "(suppressed) — «<5»",
        "f_answered": "Сколько из них к настоящему времени получили ответ",
        "f_answered_on_time": "Сколько из них получили ответ до контрольного срока",
        "f_median_days_to_answer": "Календарных дней от поступления до ответа, медиана",
        "f_share_helpful": "Доля ответов, оценённых как «помог», среди оценённых (0–1); "
        "при меньше чем 5 оценках — пусто (null)",
        "f_suppressed": "true — меньше 5 обращений (или скрыто, чтобы не вычислить вычитанием): "
        "остальные числа строки пусты",
    },
}


def _bad(code: str, kk: str, ru: str, field_name: str) -> ApiError:
    return ApiError(422, code, kk, ru, field=field_name)


def _language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise _bad("language_invalid", "Тіл: kk немесе ru", "Язык: kk или ru", "lang")
    return lang


def _published(row: Doc) -> Doc:
    """A row as downloaded: a hidden cell says "<5" where its count would be, as the page does."""
    out = {c: row.get(c) for c in COLUMNS}
    if out["suppressed"]:
        out["received"] = FEW
    return out


def _csv(data: Doc) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in map(_published, data["rows"]):
        values = []
        for c in COLUMNS:
            v = row[c]
            values.append("" if v is None else str(v).lower() if isinstance(v, bool) else v)
        writer.writerow(values)
    # The BOM tells Excel the file is UTF-8, so Kazakh letters open as letters.
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def _json(data: Doc) -> bytes:
    body = {
        "generated_at": data.get("generated_at"),
        "months": data["months"],
        "min_cell": data["min_cell"],
        "licence": {"name": "CC BY 4.0", "url": LICENCE_URL},
        "readme": "/open/README",
        "columns": list(COLUMNS),
        "rows": [_published(row) for row in data["rows"]],
    }
    return json.dumps(body, ensure_ascii=False, indent=1).encode("utf-8")


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _cell(row: Doc, name: str, t: dict[str, str]) -> str:
    if name == "share_helpful":
        value = row.get(name)
        return "—" if value is None else f"{round(value * 100)}%"
    if row["suppressed"]:
        return t["few"] if name == "received" else "—"
    value = row.get(name)
    return "—" if value is None else _number(value)


def _spark(series: list[Doc], t: dict[str, str]) -> str:
    """Twelve bars; a hidden month is a short grey stub, told as "<5" in the text alternative."""
    top = max([r["received"] or 0 for r in series] + [1])
    bars, said = [], []
    for i, r in enumerate(series):
        hidden = r["suppressed"]
        height = 2 if hidden else max(1, round(22 * (r["received"] or 0) / top))
        kind = "few" if hidden else "bar"
        bars.append(
            f'<rect class="{kind}" x="{i * 8}" y="{24 - height}" width="6" height="{height}"/>'
        )
        said.append(f"{r['month']}: {t['few'] if hidden else r['received']}")
    alt = escape(t["trend_alt"].format(values="; ".join(said)))
    return (
        f'<svg class="spark" viewBox="0 0 96 24" width="96" height="24" role="img" '
        f'aria-label="{alt}"><title>{alt}</title>{"".join(bars)}</svg>'
    )


def _table(data: Doc, level: str, month: str, lang: str) -> str:
    t = TEXT[lang]
    rows = [r for r in data["rows"] if r["level"] == level]
    keys = sorted({(r["department_ru"] or "", r["official_id"] or "") for r in rows})
    head_name = t["department"] if level == "department" else t["official"]
    heads = "".join(f'<th scope="col">{escape(t[f])}</th>' for f in FIGURES)
    body = []
    for key in keys:
        series = [r for r in rows if ((r["department_ru"] or ""), (r["official_id"] or "")) == key]
        series.sort(key=lambda r: r["month"])
        now = next((r for r in series if r["month"] == month), None)
        if now is None:
            continue
        if level == "department":
            name = escape(now.get(f"department_{lang}") or "—")
        else:
            name = (
                f"{escape(now.get(f'name_{lang}') or '—')}"
                f'<span class="sub">{escape(now.get(f"position_{lang}") or "")}, '
                f"{escape(now.get(f'department_{lang}') or '')}</span>"
            )
        cells = "".join(f"<td>{escape(_cell(now, f, t))}</td>" for f in FIGURES)
        body.append(f'<tr><th scope="row">{name}</th>{cells}<td>{_spark(series, t)}</td></tr>')
    caption = t[f"caption_{level}s"].format(month=month)
    return (
        f'<div class="scroll" role="region" aria-label="{escape(caption)}" tabindex="0">'
        f"<table><caption>{escape(caption)}</caption><thead><tr>"
        f'<th scope="col">{escape(head_name)}</th>{heads}'
        f'<th scope="col">{escape(t["trend"])}</th></tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _switch(lang: str, month: str | None, path: str) -> str:
    t = TEXT[lang]
    links = []
    for other, label in (("kk", "Қазақша"), ("ru", "Русский")):
        query = f"?lang={other}" + (f"&amp;month={month}" if month else "")
        current = ' aria-current="true"' if other == lang else ""
        links.append(f'<a href="{path}{query}" lang="{other}"{current}>{label}</a>')
    return f'<nav class="lang" aria-label="{escape(t["language"])}">{" ".join(links)}</nav>'


def _page(lang: str, title: str, body: str) -> bytes:
    template = (STATIC / "open.html").read_text(encoding="utf-8")
    html = template.replace("__LANG__", lang).replace("__TITLE__", escape(title))
    return html.replace("__BODY__", body).encode("utf-8")


def _open_page(data: Doc | None, lang: str, month: str | None) -> bytes:
    t = TEXT[lang]
    if data is None:
        body = f"{_switch(lang, None, '/open')}<h1>{escape(t['title'])}</h1><p>{t['no_data']}</p>"
        return _page(lang, t["title"], body)
    months: list[str] = data["months"]
    month = month if month in months else months[-1]
    options = "".join(
        f'<option value="{m}"{" selected" if m == month else ""}>{m}</option>'
        for m in reversed(months)
    )
    updated = escape(str(data.get("generated_at") or ""))[:16].replace("T", " ")
    body = (
        f"{_switch(lang, month, '/open')}"
        f"<h1>{escape(t['title'])}</h1><p>{escape(t['lead'])}</p>"
        f'<form method="get" action="/open" class="pick"><input type="hidden" name="lang" '
        f'value="{lang}"><label for="month">{escape(t["month"])}</label> '
        f'<select id="month" name="month">{options}</select> '
        f'<button type="submit">{escape(t["show"])}</button></form>'
        f"<h2>{escape(t['departments'])}</h2>{_table(data, 'department', month, lang)}"
        f"<h2>{escape(t['officials'])}</h2>{_table(data, 'official', month, lang)}"
        f'<p class="note">{escape(t["few_note"])}</p>'
        f'<p class="note">{escape(t["no_rating"])}</p>'
        f"<h2>{escape(t['downloads'])}</h2><ul>"
        f'<li><a href="/open/data.csv" download>{escape(t["csv"])}</a></li>'
        f'<li><a href="/open/data.json" download>{escape(t["json"])}</a></li>'
        f'<li><a href="/open/README?lang={lang}">{escape(t["readme"])}</a></li></ul>'
        f'<p><a href="{LICENCE_URL}" rel="license">{escape(t["licence"])}</a></p>'
        f'<p class="note">{escape(t["updated"])}: {updated} UTC</p>'
    )
    return _page(lang, t["title"], body)


def _readme(lang: str) -> bytes:
    t = TEXT[lang]
    rows = "".join(
        f'<tr><th scope="row"><code>{c}</code></th><td>{escape(t["f_" + c])}</td></tr>'
        for c in COLUMNS
    )
    body = (
        f"{_switch(lang, None, '/open/README')}<h1>{escape(t['readme_title'])}</h1>"
        f"<p>{escape(t['readme_lead'])}</p>"
        f"<table><caption>{escape(t['readme_title'])}</caption><thead><tr>"
        f'<th scope="col">{escape(t["field"])}</th><th scope="col">{escape(t["meaning"])}</th>'
        f"</tr></thead><tbody>{rows}</tbody></table>"
        f'<p class="note">{escape(t["few_note"])}</p>'
        f'<p><a href="{LICENCE_URL}" rel="license">{escape(t["licence"])}</a></p>'
        f'<p><a href="/open?lang={lang}">{escape(t["back"])}</a></p>'
    )
    return _page(lang, t["readme_title"], body)


@dataclass
class OpenFiguresCopy:
    """The gateway's copy of routing's open figures, and the bytes served from it."""

    db: AsyncDatabase[Doc]
    http: httpx.AsyncClient
    routing_url: str
    headers: dict[str, str]
    interval_s: float
    data: Doc | None = None
    _fetched: float = 0.0
    _failing: bool = False
    _served: dict[tuple[str, ...], tuple[bytes, str]] = field(default_factory=dict)

    async def load(self) -> None:
        """The last copy saved, so a restarted gateway serves it before routing answers."""
        doc = await self.db[COLLECTION].find_one({"_id": "current"})
        if doc is not None and self.data is None:
            self._use(doc["data"])

    def _use(self, data: Doc) -> None:
        self.data = data
        self._served = {}

    async def refresh(self) -> None:
        """Run every few seconds; pulls only when the copy is older than `interval_s`."""
        if self.data is not None and time.monotonic() - self._fetched < self.interval_s:
            return
        if self.data is None:
            await self.load()
        try:
            response = await self.http.get(
                f"{self.routing_url}/api/v1/open-figures", headers=self.headers, timeout=30.0
            )
            response.raise_for_status()
            data = response.json()
            if not isinstance(data.get("rows"), list) or not data.get("months"):
                raise ValueError("no rows or months")
        except (httpx.HTTPError, ValueError) as exc:
            # Served from the last copy meanwhile; tried again in a few seconds, said once.
            log.log(
                logging.DEBUG if self._failing else logging.WARNING,
                "open figures not refreshed from routing: %s",
                exc,
            )
            self._failing = True
            return
        self._failing = False
        await self.db[COLLECTION].replace_one(
            {"_id": "current"},
            {"_id": "current", "data": data, "fetched_at": datetime.now(UTC)},
            upsert=True,
        )
        self._fetched = time.monotonic()
        self._use(data)

    def served(self, kind: str, lang: str = "", month: str = "") -> tuple[bytes, str]:
        """The bytes and ETag of one response, built once per copy of the figures."""
        key = (kind, lang, month)
        if key not in self._served:
            if kind == "page":
                body = _open_page(self.data, lang, month or None)
            elif kind == "readme":
                body = _readme(lang)
            elif self.data is None:
                raise ApiError(
                    503,
                    "open_figures_unavailable",
                    "Көрсеткіштер әлі дайын емес. Біраздан кейін қайталаңыз",
                    "Показатели ещё не готовы. Повторите немного позже",
                )
            else:
                body = _csv(self.data) if kind == "csv" else _json(self.data)
            self._served[key] = (body, f'"{hashlib.sha256(body).hexdigest()[:32]}"')
        return self._served[key]


def _respond(
    request: Request, body: bytes, etag: str, media_type: str, headers: dict[str, str]
) -> Response:
    headers = {**headers, "ETag": etag, "Cache-Control": CACHE_CONTROL}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def build_open_router(copy: OpenFiguresCopy, *, development: bool) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    page_headers = {**security_headers(development=development), "Vary": "Accept-Encoding"}

    @router.get("/open")
    async def open_page(request: Request, lang: str = "kk", month: str = "") -> Response:
        lang = _language(lang)
        if month and (copy.data is None or month not in copy.data["months"]):
            raise _bad(
                "month_invalid",
                "Ай ЖЖЖЖ-АА түрінде, соңғы 12 айдың бірі болуы керек",
                "Месяц — в виде ГГГГ-ММ, один из последних 12",
                "month",
            )
        body, etag = copy.served("page", lang, month)
        return _respond(request, body, etag, "text/html; charset=utf-8", page_headers)

    @router.get("/open/README")
    async def readme(request: Request, lang: str = "kk") -> Response:
        body, etag = copy.served("readme", _language(lang))
        return _respond(request, body, etag, "text/html; charset=utf-8", page_headers)

    @router.get("/open/data.csv")
    async def data_csv(request: Request) -> Response:
        body, etag = copy.served("csv")
        disposition = {"Content-Disposition": 'attachment; filename="dialog-open-figures.csv"'}
        return _respond(request, body, etag, "text/csv; charset=utf-8", disposition)

    @router.get("/open/data.json")
    async def data_json(request: Request) -> Response:
        body, etag = copy.served("json")
        return _respond(request, body, etag, "application/json", {})

    return router
