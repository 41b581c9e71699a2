"""The README's settings reference is the one the settings classes produce."""

from __future__ import annotations

from pathlib import Path

from dialog_platform.reference import BEGIN, END, reference

README = Path(__file__).resolve().parents[3] / "README.md"


def test_readme_settings_reference_matches_the_classes() -> None:
    text = README.read_text(encoding="utf-8")
    current = text[text.index(BEGIN) + len(BEGIN) : text.index(END)].strip()
    assert current == reference(), (
        "README settings reference is stale: regenerate with "
        "`.venv/bin/python -m dialog_platform.reference`"
    )


def test_every_service_setting_is_listed() -> None:
    table = reference()
    for name in (
        "DIALOG_BUS_URL",
        "DIALOG_KIOSK_GATEWAY_MAX_VIDEO_BYTES",
        "DIALOG_PRINTER_AGENT_KIOSK_ID",
        "DIALOG_MEDIA_STORE_MAX_DURATION_S",
    ):
        assert f"`{name}`" in table
