from __future__ import annotations

import json
import logging

import pytest

from dialog_platform.logging import JsonFormatter, configure_logging, mask_phones


@pytest.mark.parametrize(
    "text",
    ["+77012345678", "+7 701 234 56 78", "87012345678", "8 (701) 234-56-78", "7012345678"],
)
def test_phone_numbers_are_masked_in_any_shape(text: str) -> None:
    masked = mask_phones(f"sms to {text} sent")
    assert "234" not in masked
    assert masked.endswith("+7 701 *** ** 78 sent")


def test_other_numbers_are_left_alone() -> None:
    text = "appeal 2026-000123-7 took 1234567 bytes"
    assert mask_phones(text) == text


def test_json_line_with_service_and_masked_extras(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("kiosk-gateway", "INFO")
    logging.getLogger("t").info(
        "new appeal from %s", "+77012345678", extra={"phone": "87012345678"}
    )
    line = capsys.readouterr().out.strip().splitlines()[-1]
    entry = json.loads(line)
    assert entry["service"] == "kiosk-gateway"
    assert entry["level"] == "info"
    assert "2345" not in line
    assert entry["phone"] == "+7 701 *** ** 78"


def test_exceptions_are_logged_masked() -> None:
    formatter = JsonFormatter("x")
    try:
        raise ValueError("bad number +77012345678")
    except ValueError:
        import sys

        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    entry = json.loads(formatter.format(record))
    assert "ValueError" in entry["exception"] and "2345" not in entry["exception"]
