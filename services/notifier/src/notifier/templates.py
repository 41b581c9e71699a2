"""SMS texts in Kazakh and Russian, one file per language with the same keys."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Literal

from .parts import sms_parts

Language = Literal["kk", "ru"]
LANGUAGES: tuple[Language, ...] = ("kk", "ru")

# Routine messages fit one SMS part; the operator's alerts name a booth and what is wrong
# with it, so they may take two.
BUDGET_PARTS: dict[str, int] = {
    "receipt_failed": 2,
    **{
        f"kiosk_{condition}{end}": 2
        for condition in ("offline", "printer", "camera")
        for end in ("", "_ok")
    },
}
DEFAULT_BUDGET = 1
# Address length a deployment's URLs are held to in the budget (without "https://").
MAX_URL_CHARS = 20


def budget(purpose: str) -> int:
    return BUDGET_PARTS.get(purpose, DEFAULT_BUDGET)


@cache
def catalog(language: Language) -> dict[str, str]:
    text = resources.files("notifier").joinpath(f"templates/{language}.json").read_text("utf-8")
    data: dict[str, str] = json.loads(text)
    return data


def render(purpose: str, language: Language, **fields: str) -> str:
    return catalog(language)[purpose].format(**fields)


def parts(purpose: str, language: Language, **fields: str) -> int:
    return sms_parts(render(purpose, language, **fields))
