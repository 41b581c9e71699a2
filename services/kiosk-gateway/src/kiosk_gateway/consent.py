"""The consent text the booth shows, by version: which one each citizen agreed to is on record.

The booth's catalog (static/i18n) holds the text on screen; consent_versions.json holds every
version ever shown, newest last, and is never edited in place. A changed text on screen without
a new version is refused when the gateway starts, so no appeal is recorded against a text that
is not on record.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

KEYS = (
    "consent_title",
    "consent_what",
    "consent_who",
    "consent_keep",
    "consent_law",
    "consent_agree",
)


@cache
def versions() -> list[dict[str, Any]]:
    text = resources.files("kiosk_gateway").joinpath("consent_versions.json").read_text("utf-8")
    found: list[dict[str, Any]] = json.loads(text)["versions"]
    return found


def current() -> str:
    return str(versions()[-1]["version"])


def known(version: str) -> bool:
    return any(v["version"] == version for v in versions())


def texts(version: str) -> dict[str, dict[str, str]] | None:
    for v in versions():
        if v["version"] == version:
            found: dict[str, dict[str, str]] = v["texts"]
            return found
    return None


def check(catalogs: dict[str, dict[str, str]]) -> None:
    """The text on screen is the newest version's, word for word."""
    latest = versions()[-1]
    for lang, catalog in catalogs.items():
        shown = {k: catalog.get(k) for k in KEYS}
        if shown != latest["texts"].get(lang):
            raise RuntimeError(
                f"the booth's consent text ({lang}) differs from version {latest['version']} in "
                "consent_versions.json: add the new text there as a new version"
            )
