"""The open figures as HTML: the `/open` page (tables, twelve-month sparklines) and the README.

Built on the server with no JavaScript, so the page reads the same in any browser; the words come
from `open_text`, the frame from `static/open.html`.
"""

from __future__ import annotations

from html import escape
from typing import Any

from .open_text import COLUMNS, FIGURES, LICENCE_URL, TEXT
from .pages import template

Doc = dict[str, Any]


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
    html = template("open.html").replace("__LANG__", lang).replace("__TITLE__", escape(title))
    return html.replace("__BODY__", body).encode("utf-8")


def open_page(data: Doc | None, lang: str, month: str | None) -> bytes:
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


def readme_page(lang: str) -> bytes:
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
