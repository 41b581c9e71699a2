"""One masked form of a phone number for logs, the dashboard and the notifier's records."""

from __future__ import annotations

from dialog_platform.logging import mask_phones
from dialog_platform.phones import mask_phone


def test_a_kazakhstan_number_keeps_its_operator_code_and_last_two_digits() -> None:
    assert mask_phone("+77011234567") == "+7 701 *** ** 67"
    assert mask_phone("+7 (701) 234-56-78") == "+7 701 *** ** 78"
    assert mask_phone("8 777 000 11 22") == "+7 777 *** ** 22"


def test_the_log_masker_writes_the_same_form() -> None:
    assert mask_phones("sms to +77011234567 sent") == f"sms to {mask_phone('+77011234567')} sent"


def test_other_shapes_are_masked_never_echoed_never_an_exception() -> None:
    assert mask_phone("+380501234567") == "+380*******67"
    masked = mask_phone("+4915123456789")
    assert masked.endswith("89") and "5123" not in masked
    assert mask_phone("12") == "**"
    assert mask_phone("") == ""
    assert mask_phone(None) == ""
