from __future__ import annotations

import hashlib
import random
import re

import pytest
from argon2 import PasswordHasher

from kiosk_gateway.registration import (
    InvalidRegistrationNumber,
    access_code_needs_rehash,
    format_number,
    hash_access_code,
    hash_token,
    is_valid,
    new_access_code,
    new_kiosk_token,
    normalize,
    parse_number,
    verify_access_code,
)


def _sample_numbers() -> list[tuple[int, int]]:
    rnd = random.Random(20260321)
    picked = {(2026, 1), (2026, 9), (2026, 90), (2026, 900009), (2025, 999_999), (2099, 109)}
    while len(picked) < 200:
        picked.add((rnd.randint(2024, 2040), rnd.randint(1, 999_999)))
    return sorted(picked)


SAMPLES = _sample_numbers()


def _digit_string(number: str) -> str:
    return number.replace("-", "")


def _regroup(digits: str) -> str:
    return f"{digits[:4]}-{digits[4:10]}-{digits[10:]}"


def test_known_number() -> None:
    # Damm by hand with the standard table, interim starting at 0, over 2,0,2,6,0,0,0,1,2,3:
    # T[0][2]=1, T[1][0]=7, T[7][2]=4, T[4][6]=5, T[5][0]=3, T[3][0]=1, T[1][0]=7, T[7][1]=9,
    # T[9][2]=8, T[8][3]=8  ->  check digit 8.
    assert format_number(2026, 123) == "2026-000123-8"
    assert parse_number("2026-000123-8") == (2026, 123)
    with pytest.raises(InvalidRegistrationNumber) as err:
        parse_number("2026-000123-7")
    assert err.value.reason == "bad_check_digit"


@pytest.mark.parametrize(("year", "seq"), SAMPLES)
def test_round_trip(year: int, seq: int) -> None:
    number = format_number(year, seq)
    assert re.fullmatch(r"\d{4}-\d{6}-\d", number)
    assert parse_number(number) == (year, seq)
    assert normalize(number) == number
    assert is_valid(number)


def test_every_single_digit_substitution_is_caught() -> None:
    checked = 0
    for year, seq in SAMPLES:
        digits = _digit_string(format_number(year, seq))
        for pos, original in enumerate(digits):
            for replacement in "0123456789":
                if replacement == original:
                    continue
                typo = _regroup(digits[:pos] + replacement + digits[pos + 1 :])
                assert not is_valid(typo), typo
                with pytest.raises(InvalidRegistrationNumber) as err:
                    parse_number(typo)
                assert err.value.reason == "bad_check_digit"
                checked += 1
    assert checked == len(SAMPLES) * 11 * 9


def test_every_adjacent_transposition_is_caught() -> None:
    checked = 0
    for year, seq in SAMPLES:
        digits = _digit_string(format_number(year, seq))
        # Includes swaps across the dashes and with the check digit itself.
        for pos in range(len(digits) - 1):
            a, b = digits[pos], digits[pos + 1]
            if a == b:
                continue
            swapped = digits[:pos] + b + a + digits[pos + 2 :]
            assert not is_valid(_regroup(swapped)), swapped
            checked += 1
    assert checked > len(SAMPLES) * 5


def test_the_swap_luhn_misses_is_caught() -> None:
    # Luhn maps 0->0 and 9->9 when doubling, so "09" and "90" have the same Luhn sum.
    digits = _digit_string(format_number(2026, 90))  # "2026000090" + check
    pos = digits.index("09")
    swapped = digits[:pos] + "90" + digits[pos + 2 :]
    assert not is_valid(_regroup(swapped))


@pytest.mark.parametrize(
    "typed",
    [
        "2026-000123-8",
        "2026 000123 8",
        "20260001238",
        "  2026-000123-8\n",
        "2026-000123 8",
        "2026\u2013000123\u20138",  # en dashes, as a phone or word processor substitutes them
        "2026\u00a0000123\u00a08",  # no-break spaces from copy-paste
    ],
)
def test_keypad_normalization(typed: str) -> None:
    assert normalize(typed) == "2026-000123-8"
    assert parse_number(typed) == (2026, 123)


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "2026-000123",  # check digit forgotten
        "2026-00123-8",  # a digit dropped
        "2026-0001234-8",  # a digit doubled
        "2026/000123/8",
        "2026-000123-8a",
        "A026-000123-8",
        "\u0662\u0660\u0662\u0666\u0660\u0660\u0660\u0661\u0662\u0663\u0668",  # Arabic-Indic digits
        "\uff12\uff10\uff12\uff16\uff10\uff10\uff10\uff11\uff12\uff13\uff18",  # full-width digits
    ],
)
def test_bad_shapes(typed: str) -> None:
    assert not is_valid(typed)
    with pytest.raises(InvalidRegistrationNumber) as err:
        normalize(typed)
    assert err.value.reason == "bad_shape"


def test_checksum_valid_but_never_issued() -> None:
    # Sequence 0 is never issued (sequences start at 1), even with a correct check digit:
    # "2026000000": T[0][2]=1, T[1][0]=7, T[7][2]=4, T[4][6]=5, then T[5][0]=3, T[3][0]=1,
    # T[1][0]=7, T[7][0]=8, T[8][0]=9, T[9][0]=2  ->  2.
    with pytest.raises(InvalidRegistrationNumber) as err:
        parse_number("2026-000000-2")
    assert err.value.reason == "bad_shape"


@pytest.mark.parametrize(("year", "seq"), [(2026, 0), (2026, 1_000_000), (999, 1), (10_000, 1)])
def test_format_refuses_out_of_range(year: int, seq: int) -> None:
    with pytest.raises(ValueError):
        format_number(year, seq)


# --- access codes -------------------------------------------------------------------------------


def test_access_codes_are_eight_random_digits() -> None:
    codes = [new_access_code() for _ in range(1000)]
    assert all(re.fullmatch(r"[0-9]{8}", c) for c in codes)
    # 1000 draws from 10^8: a repeat has probability ~0.5%, more than ten is impossible in
    # practice unless the generator is broken.
    assert len(set(codes)) >= 990
    # Zero-padding and spread: every position takes every digit (P(miss) ~ 10 * 0.9^1000).
    for pos in range(8):
        assert {c[pos] for c in codes} == set("0123456789")


def test_access_code_hash_verifies_only_the_right_code() -> None:
    code = "04271937"
    code_hash = hash_access_code(code)
    assert code not in code_hash
    assert code_hash.startswith("$argon2id$")
    assert verify_access_code(code_hash, code)
    assert not verify_access_code(code_hash, "04271938")
    assert not verify_access_code(code_hash, "4271937")
    assert not verify_access_code(code_hash, "0427193")
    assert not verify_access_code(code_hash, " 04271937")
    assert not verify_access_code(code_hash, "")
    assert not verify_access_code("not a hash", code)
    assert not verify_access_code(code_hash[:-4], code)
    # Salted: the same code hashes differently each time, and both verify.
    other = hash_access_code(code)
    assert other != code_hash
    assert verify_access_code(other, code)


@pytest.mark.parametrize("bad", ["1234567", "123456789", "1234567a", "\u0661" * 8, ""])
def test_hash_access_code_refuses_bad_shapes(bad: str) -> None:
    with pytest.raises(ValueError):
        hash_access_code(bad)


def test_access_code_rehash() -> None:
    assert not access_code_needs_rehash(hash_access_code("12345678"))
    weaker = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash("12345678")
    assert verify_access_code(weaker, "12345678")  # old records still work...
    assert access_code_needs_rehash(weaker)  # ...and get upgraded on the next look-up
    assert access_code_needs_rehash("garbage")


# --- kiosk tokens -------------------------------------------------------------------------------


def test_kiosk_tokens() -> None:
    tokens = {new_kiosk_token() for _ in range(100)}
    assert len(tokens) == 100
    for token in tokens:
        # 32 random bytes in unpadded base64url = 43 characters.
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)


def test_hash_token() -> None:
    # FIPS 180-2 test vector for SHA-256("abc").
    assert hash_token("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    token = new_kiosk_token()
    assert hash_token(token) == hash_token(token)
    assert hash_token(token) == hashlib.sha256(token.encode()).hexdigest()
    assert hash_token(token) != hash_token(token + "x")
