"""Citizen identity fields at intake: phone number, IIN, full name.

Every validator returns the canonical value or raises an exception carrying a short machine
``reason`` that the API maps to a Kazakh/Russian message; none of them echo the input in the
exception text, because these are personal data and exception texts end up in logs.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Final

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from dialog_platform.calendar import ALMATY

__all__ = [
    "InvalidFullName",
    "InvalidIin",
    "InvalidPhone",
    "iin_check_digit",
    "normalize_phone",
    "validate_full_name",
    "validate_iin",
]

REGION: Final = "KZ"


class _ReasonError(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidPhone(_ReasonError):
    """Reasons: ``empty``, ``bad_format``, ``invalid``, ``not_kz``, ``not_mobile``."""


class InvalidIin(_ReasonError):
    """Reasons: ``empty``, ``bad_shape``, ``bad_checksum``, ``bad_century``, ``bad_date``,
    ``future_date``."""


class InvalidFullName(_ReasonError):
    """Reasons: ``empty``, ``too_short``, ``too_long``, ``bad_chars``, ``bad_shape``."""


# --- phone --------------------------------------------------------------------------------------

# phonenumbers is lenient on purpose (it reads "tel:" URIs, vanity letters, extensions); an
# intake form should not be, so only what a keypad or a hand-typed number can contain gets in.
_PHONE_CHARS: Final = re.compile(r"\+?[0-9\s().\-]+")
_PHONE_MAX_LEN: Final = 32


def normalize_phone(text: str) -> str:
    """Return the E.164 form (``+77011234567``) of a Kazakhstan mobile number.

    Accepts the usual ways of writing one: ``+7 701 123 45 67``, ``8 (701) 123-45-67``
    (8 is the national trunk prefix), ``7011234567``. The citizen gets an SMS when the answer is
    ready, so only numbers that phonenumbers classifies as mobile in region KZ are accepted:
    +7 is shared with Russia, and KZ fixed lines cannot receive SMS.
    """
    stripped = text.strip()
    if not stripped:
        raise InvalidPhone("empty")
    if len(stripped) > _PHONE_MAX_LEN or not _PHONE_CHARS.fullmatch(stripped):
        raise InvalidPhone("bad_format")
    try:
        number = phonenumbers.parse(stripped, REGION)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone("bad_format") from exc
    if number.extension:
        raise InvalidPhone("bad_format")
    if not phonenumbers.is_valid_number_for_region(number, REGION):
        # A well-formed Russian (or other) number is "not ours" rather than "invalid", and the
        # citizen should be told exactly that.
        raise InvalidPhone("not_kz" if phonenumbers.is_valid_number(number) else "invalid")
    # Some +7 ranges are valid in both countries (8 800 toll-free) and phonenumbers assigns them
    # to Russia, the main country of +7; none of them is a KZ mobile. KZ metadata has disjoint
    # fixed-line and mobile ranges, so FIXED_LINE_OR_MOBILE does not occur for KZ; it would be
    # refused anyway, as an SMS to it might not arrive.
    if (
        phonenumbers.region_code_for_number(number) != REGION
        or phonenumbers.number_type(number) != PhoneNumberType.MOBILE
    ):
        raise InvalidPhone("not_mobile")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


# --- IIN ----------------------------------------------------------------------------------------

# python-stdnum (2.2) has no Kazakhstan module, so the IIN rules are implemented here, after
# Government Decree No. 565 of 11 June 2003 (the IIN/BIN programme): YYMMDD, a century+sex digit,
# a 4-digit serial, and a mod-11 check digit with a fallback weight set.
_IIN_WEIGHTS_1: Final = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_IIN_WEIGHTS_2: Final = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
_IIN_SHAPE: Final = re.compile(r"[0-9]{12}")
# 7th digit: odd = male, even = female; 1-2 born 1800s, 3-4 1900s, 5-6 2000s.
_IIN_CENTURY: Final = {1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000}


def iin_check_digit(first11: str) -> int | None:
    """Check digit for the first 11 IIN digits, or None when no valid IIN starts with them.

    When both weight sets leave remainder 10 the number is simply never issued, which is why
    this can return None.
    """
    digits = [int(c) for c in first11]
    rem = sum(d * w for d, w in zip(digits, _IIN_WEIGHTS_1, strict=True)) % 11
    if rem == 10:
        rem = sum(d * w for d, w in zip(digits, _IIN_WEIGHTS_2, strict=True)) % 11
    return None if rem == 10 else rem


def validate_iin(text: str, *, today: date | None = None) -> str:
    """Return the 12-digit IIN if ``text`` is a valid one, else raise :class:`InvalidIin`.

    Spaces are tolerated (people group digits when copying from an ID card). The birth date must
    exist and not lie after ``today`` (default: today in Almaty), as an IIN is issued at birth.
    """
    iin = re.sub(r"\s+", "", text)
    if not iin:
        raise InvalidIin("empty")
    if not _IIN_SHAPE.fullmatch(iin):
        raise InvalidIin("bad_shape")
    if iin_check_digit(iin[:11]) != int(iin[11]):
        raise InvalidIin("bad_checksum")
    century = _IIN_CENTURY.get(int(iin[6]))
    if century is None:
        raise InvalidIin("bad_century")
    try:
        born = date(century + int(iin[0:2]), int(iin[2:4]), int(iin[4:6]))
    except ValueError as exc:
        raise InvalidIin("bad_date") from exc
    if today is None:
        today = datetime.now(ALMATY).date()
    if born > today:
        raise InvalidIin("future_date")
    return iin


# --- full name ----------------------------------------------------------------------------------

# Letters of the alphabets Kazakhstan's citizens write their names in: Russian Cyrillic, the
# Kazakh Cyrillic additions, basic Latin, and the extra letters of the Kazakh Latin alphabets
# (2021 version with diacritics, and the 2018 version's acute-accented letters).
_CYRILLIC: Final = "А-Яа-яЁё" + "ӘәҒғҚқҢңӨөҰұҮүҺһІі"
_LATIN: Final = "A-Za-z" + "ÄäĞğÑñÖöŞşŪūÜüİıÇç" + "ÁáǴǵŃńÓóÚúÝý"
_LETTER: Final = f"[{_CYRILLIC}{_LATIN}]"
# Apostrophe variants: ASCII, typographic right quote, and the modifier letter used in Latin
# transliterations (O'Brien, Qazaqstan's 2017 alphabet). A separator must sit between letters,
# which rules out names that are only punctuation and doubled or dangling separators.
_SEPARATOR: Final = "[ \\-'\u2019\u02bc]"
_FULL_NAME: Final = re.compile(f"{_LETTER}+(?:{_SEPARATOR}{_LETTER}+)*")
_ALLOWED_CHAR: Final = re.compile(f"{_LETTER}|{_SEPARATOR}")
NAME_MIN_LEN: Final = 2
NAME_MAX_LEN: Final = 150


def validate_full_name(text: str) -> str:
    """Return the name stripped, NFC-normalised, with runs of whitespace collapsed to one space.

    NFC matters because the same Kazakh letter can arrive precomposed or as letter + combining
    mark depending on the keyboard; the stored name should have one spelling.
    """
    name = " ".join(unicodedata.normalize("NFC", text).split())
    if not name:
        raise InvalidFullName("empty")
    if len(name) < NAME_MIN_LEN:
        raise InvalidFullName("too_short")
    if len(name) > NAME_MAX_LEN:
        raise InvalidFullName("too_long")
    if not all(_ALLOWED_CHAR.fullmatch(c) for c in name):
        raise InvalidFullName("bad_chars")
    if not _FULL_NAME.fullmatch(name):
        raise InvalidFullName("bad_shape")
    return name
