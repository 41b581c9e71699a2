"""Search terms: what a person types into the search box, and the index keys a case carries.

Each case of the dashboard's read model (`repository.case_index`) carries one string key per
term under a one-field index: a term, then the handling official, then the appeal id. A search
is then one range of one index, the same at ten thousand cases as at a million (nx-27017, the
embedded server, walks such a range in its index; it uses no compound or multikey index). An
official's range starts with their own id, so they never see another's case; the control
office's range spans every official.

Names are folded so that the Kazakh and the Russian spelling of a name meet: case, the Kazakh
letters and the soft and hard signs (`dialog_platform.textfold`, shared with the reference
desk's search).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from dialog_platform.textfold import words

SEP = "|"
END = "}"  # the character after SEP: a prefix's keys lie in [prefix, prefix + END)
NAME_SLOTS = 4  # "Surname Name Patronymic" and a "қызы"/"ұлы" or a double surname
MIN_PHONE_DIGITS = 4
MAX_QUERY_CHARS = 200

_NOT_DIGIT = re.compile(r"[\s\-\u2010-\u2015\u2212+().]+")

Kind = Literal["number", "number_guess", "iin", "phone", "name"]


def name_words(full_name: str | None) -> list[str]:
    return words(full_name)


def phone_digits(phone: str | None) -> str:
    return "".join(ch for ch in phone or "" if ch.isdigit())


# Damm's quasigroup, as the gateway computes registration numbers' check digits.
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


def damm(digits: str) -> int:
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][int(ch)]
    return interim


def format_number(digits: str) -> str:
    return f"{digits[:4]}-{digits[4:10]}-{digits[10:]}"


def nearest_numbers(digits: str) -> list[str]:
    """Valid 11-digit numbers one slip away from a number that fails its check digit: another
    check digit, one other digit, or two neighbours swapped. Nearest first."""
    found: list[str] = []

    def add(candidate: str) -> None:
        if candidate != digits and damm(candidate) == 0 and candidate not in found:
            found.append(candidate)

    add(digits[:10] + str(damm(digits[:10])))
    for i in range(len(digits) - 1):
        add(digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :])
    for i in range(10):
        for d in "0123456789":
            add(digits[:i] + d + digits[i + 1 :])
    return found


class QueryInvalid(ValueError):
    """What was typed cannot be searched; `code` names why (a kk/ru message)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Query:
    kind: Kind
    terms: tuple[str, ...]
    # A mistyped registration number: the valid ones it may have meant.
    guesses: tuple[str, ...] = field(default=())


def parse(text: str) -> Query:
    text = text.strip()
    if not text:
        raise QueryInvalid("search_empty")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryInvalid("search_too_long")
    words = name_words(text)
    if words:
        return Query("name", tuple(dict.fromkeys(words)))
    digits = _NOT_DIGIT.sub("", text)
    if not digits.isascii() or not digits.isdigit():
        raise QueryInvalid("search_invalid")
    # Registration numbers begin with the year (20xx); Kazakh mobile numbers with 7 or 8.
    if digits.startswith("20") and len(digits) == 11:
        if damm(digits) == 0:
            return Query("number", (digits,))
        return Query("number_guess", (), tuple(nearest_numbers(digits)))
    if digits.startswith("20") and len(digits) == 10:
        return Query("number", (digits + str(damm(digits)),))
    if len(digits) == 12:
        return Query("iin", (digits,))
    if len(digits) == 11 and digits.startswith("8"):
        digits = "7" + digits[1:]
    if MIN_PHONE_DIGITS <= len(digits) <= 11:
        return Query("phone", (digits[::-1],))
    raise QueryInvalid("search_too_short")


# Index keys of a case


def index_keys(doc: dict[str, Any]) -> dict[str, str]:
    """The search keys of a read-model document (only for the terms it has)."""
    official, appeal = doc.get("official_id") or "", doc["_id"]
    keys: dict[str, str] = {}
    number = phone_digits(doc.get("registration_number"))
    if number:
        keys["k_num"] = f"{number}{SEP}{official}{SEP}{appeal}"
    if doc.get("iin"):
        keys["k_iin"] = f"{doc['iin']}{SEP}{official}{SEP}{appeal}"
    phone = phone_digits(doc.get("phone"))[::-1]
    if phone:
        keys["k_tel"] = f"{phone}{SEP}{appeal}"
        keys["k_tel_own"] = f"{official}{SEP}{phone}{SEP}{appeal}"
    for slot, word in enumerate(name_words(doc.get("full_name"))[:NAME_SLOTS]):
        keys[f"k_n{slot}"] = f"{word}{SEP}{official}{SEP}{appeal}"
    return keys


INDEXED_KEYS = ("k_num", "k_iin", "k_tel", "k_tel_own", *(f"k_n{i}" for i in range(NAME_SLOTS)))


@dataclass(frozen=True)
class KeyRange:
    fields: tuple[str, ...]  # one range, looked up in each of these indexed fields
    low: str
    high: str


def key_range(kind: Kind, term: str, official_id: str | None) -> KeyRange:
    """The range of keys that holds a term's cases: one official's, or all (None)."""
    if kind == "phone":
        if official_id is None:
            return KeyRange(("k_tel",), term, term + END)
        prefix = f"{official_id}{SEP}{term}"
        return KeyRange(("k_tel_own",), prefix, prefix + END)
    fields = {
        "number": ("k_num",),
        "number_guess": ("k_num",),
        "iin": ("k_iin",),
        "name": tuple(f"k_n{i}" for i in range(NAME_SLOTS)),
    }[kind]
    prefix = f"{term}{SEP}" if official_id is None else f"{term}{SEP}{official_id}{SEP}"
    return KeyRange(fields, prefix, prefix[: -len(SEP)] + END)
