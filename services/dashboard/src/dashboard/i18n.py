"""Message catalogs (messages/kk.json, messages/ru.json) and the language of a request."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Literal

Lang = Literal["kk", "ru"]
LANGS: tuple[Lang, ...] = ("kk", "ru")
DEFAULT: Lang = "kk"
COOKIE = "dialog_lang"


@lru_cache
def catalog(lang: Lang) -> dict[str, str]:
    text = resources.files("dashboard").joinpath(f"messages/{lang}.json").read_text("utf-8")
    messages: dict[str, str] = json.loads(text)
    return messages


def pick(value: str | None) -> Lang:
    return "ru" if value == "ru" else DEFAULT


class Translator:
    """`t("inbox.title")` in templates; values fill `{n}` fields; a missing key shows itself."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang
        self.messages = catalog(lang)

    def __call__(self, key: str, **values: object) -> str:
        text = self.messages.get(key, key)
        return text.format(**values) if values else text

    def age(self, seconds: float | None) -> str:
        """How long ago, in its two largest units («3 мин 12 с», «2 сағ»); «—» when unknown."""
        if seconds is None:
            return "—"
        s = int(seconds)
        units = (("d", s // 86400), ("h", s // 3600 % 24), ("m", s // 60 % 60), ("s", s % 60))
        first = next((i for i, (_, n) in enumerate(units) if n), len(units) - 1)
        head, *rest = units[first : first + 2]
        shown = [head, *(u for u in rest if u[1])]
        return " ".join(self(f"age.{unit}", n=n) for unit, n in shown)

    def pick(self, localized: object) -> str:
        """The text in this language from a {kk, ru} object (directory fields)."""
        if isinstance(localized, dict):
            return str(localized.get(self.lang) or localized.get("ru") or "")
        return "" if localized is None else str(localized)
