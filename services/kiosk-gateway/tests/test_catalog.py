"""The booth's and tracking page's texts: both languages complete, nothing hard-coded."""

from __future__ import annotations

import json
import re

from kiosk_gateway.pages import STATIC, catalogs, template

CYRILLIC = re.compile(r"[А-Яа-яЁёӘәҒғҚқҢңӨөҰұҮүҺһІі]")
# How the pages name a message: data-i18n="key" in HTML; t("key"), return "key" and
# "key" as a conditional's branch in scripts (field rules return the key of their error).
USES = (
    re.compile(r'data-i18n(?:-label)?="([a-z0-9_]+)"'),
    # The booth's voice: messageClips("key", …) speaks a message.
    re.compile(r'messageClips\(\s*"([a-z0-9_]+)"'),
    re.compile(r'\bt\(\s*"([a-z0-9_]+)"'),
    re.compile(r'return\s+"([a-z0-9_]+)"'),
    re.compile(
        r'[?:(]\s*"((?:err|error|status|record|date|receipt|idle|volume|upload)_[a-z0-9_]+)"'
    ),
    # setText(el, "key", …) shows a message and keeps its key for the voice.
    re.compile(r'setText\((?:[^()"]|\([^()]*\))*"([a-z0-9_]+)"'),
)


def sources() -> dict[str, str]:
    """Each page (as served, its parts put in) and script, without comments (may quote keys)."""
    return {
        p.name: re.sub(
            r"^\s*//[^\n]*|<!--.*?-->",
            "",
            template(p.name) if p.suffix == ".html" else p.read_text(encoding="utf-8"),
            flags=re.S | re.M,
        )
        for p in sorted(STATIC.iterdir())
        if p.suffix in (".html", ".js")
    }


def used_keys() -> dict[str, set[str]]:
    return {name: {k for rx in USES for k in rx.findall(text)} for name, text in sources().items()}


def test_both_languages_have_the_same_keys_and_no_empty_text() -> None:
    kk, ru = catalogs()["kk"], catalogs()["ru"]
    assert set(kk) == set(ru), f"only kk: {set(kk) - set(ru)}; only ru: {set(ru) - set(kk)}"
    for lang, catalog in (("kk", kk), ("ru", ru)):
        empty = [key for key, text in catalog.items() if not text.strip()]
        assert not empty, f"empty {lang} texts: {empty}"


def test_every_key_the_pages_use_is_in_both_catalogs() -> None:
    catalog = catalogs()
    for name, keys in used_keys().items():
        for lang in ("kk", "ru"):
            missing = keys - set(catalog[lang])
            assert not missing, f"{name} uses keys missing in {lang}.json: {sorted(missing)}"
    # The scan finds what the pages really use (a broken pattern would prove nothing).
    assert {"consent_title", "record_extend_min", "err_iin_invalid", "status_registered"} <= set(
        k for keys in used_keys().values() for k in keys
    )


def test_no_text_is_written_into_the_pages_or_scripts() -> None:
    for name, text in sources().items():
        found = CYRILLIC.findall(text)
        assert not found, f"{name} has text of its own: {''.join(found)[:40]}"


def test_kazakh_texts_use_kazakh_letters() -> None:
    # A Russian text pasted into kk.json by mistake would pass the key checks.
    kk, ru = catalogs()["kk"], catalogs()["ru"]
    same = [k for k in kk if kk[k] == ru[k] and CYRILLIC.search(kk[k]) and len(kk[k]) > 12]
    assert same == ["keyboard_letters"], same


def test_catalog_files_are_plain_json_objects_of_strings() -> None:
    for lang in ("kk", "ru"):
        data = json.loads((STATIC / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))
        assert all(isinstance(v, str) for v in data.values())


def test_no_key_is_left_unused() -> None:
    # Every message is for something on screen; a key no page names is a leftover.
    used = set().union(*used_keys().values())
    unused = set(catalogs()["kk"]) - used
    assert not unused, sorted(unused)
