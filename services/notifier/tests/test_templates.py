"""SMS templates: both languages complete, and each routine message fits its SMS budget."""

from __future__ import annotations

import pytest

from notifier.parts import sms_parts
from notifier.templates import LANGUAGES, MAX_URL_CHARS, budget, catalog, render

# The longest values a real message carries.
LONGEST = {
    "number": "2026-999999-9",
    "control_date": "30.12.2026",
    "deadline": "30.12.2026",
    "dashboard": "d" * MAX_URL_CHARS,
    "tracking": "t" * MAX_URL_CHARS,
    "kiosk": "ust-kamenogorsk-con1-a",
    "reason": "printer unreachable (connection refused)",
    "since": "03.12 14:05",
    "state": "қақпағы ашық",
}


def test_both_languages_have_the_same_keys() -> None:
    assert set(catalog("kk")) == set(catalog("ru"))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("purpose", sorted(catalog("ru")))
def test_template_fits_its_budget(language: str, purpose: str) -> None:
    text = render(purpose, language, **LONGEST)  # type: ignore[arg-type]
    assert "{" not in text and "}" not in text
    assert sms_parts(text) <= budget(purpose), f"{len(text)} chars: {text}"


def test_languages_differ() -> None:
    for purpose in catalog("ru"):
        assert render(purpose, "kk", **LONGEST) != render(purpose, "ru", **LONGEST)


def test_part_counting() -> None:
    assert sms_parts("a" * 160) == 1
    assert sms_parts("a" * 161) == 2
    assert sms_parts("a" * 306) == 2 and sms_parts("a" * 307) == 3
    assert sms_parts("ә" * 70) == 1
    assert sms_parts("ә" * 71) == 2
    assert sms_parts("я" * 134) == 2 and sms_parts("я" * 135) == 3
    # One Cyrillic letter makes the whole message UCS-2.
    assert sms_parts("a" * 69 + "ы") == 1 and sms_parts("a" * 70 + "ы") == 2
    assert sms_parts("{" * 80) == 1 and sms_parts("{" * 81) == 2  # extension set: two septets
