"""What every page of the gateway shares: files from `static/`, no build step and nothing from
another origin. A page's shared parts (its frame, the rating block, the booth's typed fields) are
Jinja templates in `static/parts/`, put in once when the page is first served. Every text comes
from the message catalogs, handed to the page as JSON inside the HTML, so a page needs one
request.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from dialog_platform.hardening import security_headers

STATIC = Path(__file__).parent.parent / "static"
LANGUAGES = ("kk", "ru")
_TEMPLATES = Environment(
    loader=FileSystemLoader(STATIC),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def catalogs() -> dict[str, dict[str, str]]:
    return {
        lang: json.loads((STATIC / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))
        for lang in LANGUAGES
    }


@cache
def template(name: str) -> str:
    """A page of `static/` with its parts put in: what is served, but for its config."""
    return _TEMPLATES.get_template(name).render()


def render(name: str, config: dict[str, Any], *, development: bool) -> HTMLResponse:
    # "<" escaped so no catalog text can close the <script> element that carries the config.
    payload = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")
    html = template(name).replace("__CONFIG__", payload)
    headers = {**security_headers(development=development), "Cache-Control": "no-store"}
    return HTMLResponse(html, headers=headers)
