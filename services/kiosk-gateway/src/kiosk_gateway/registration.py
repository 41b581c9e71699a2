"""Registration numbers, citizen access codes and kiosk tokens.

A registration number looks like ``2026-000123-8``: the year, a per-year sequence padded to six
digits, and a Damm check digit computed over the ten year+sequence digits. Only digits and dashes,
because citizens type it back on a touch keypad or on the tracking page.

The check digit is Damm rather than Luhn: Damm (a totally anti-symmetric quasigroup of order 10)
detects every single-digit substitution *and* every adjacent transposition, including ones that
involve the check digit itself. Luhn misses the 09 <-> 90 swap, which is an easy slip on a keypad.

The sequence itself comes from the database (an atomic per-year counter elsewhere in the service);
this module only renders and checks numbers, so uniqueness is the counter's job.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from stdnum import damm

T = TypeVar("T")

__all__ = [
    "ACCESS_CODE_DIGITS",
    "MAX_SEQUENCE",
    "InvalidRegistrationNumber",
    "access_code_needs_rehash",
    "format_number",
    "hash_access_code",
    "hash_token",
    "is_valid",
    "new_access_code",
    "new_kiosk_token",
    "normalize",
    "off_loop",
    "parse_number",
    "verify_access_code",
]

MIN_YEAR: Final = 1000
MAX_YEAR: Final = 9999
MAX_SEQUENCE: Final = 999_999
ACCESS_CODE_DIGITS: Final = 8

# What people put between the groups when they type or paste a number: spaces (incl. no-break
# space from copy-paste), ASCII hyphen, and the Unicode dashes/minus that word processors and
# phones substitute for it. Anything else is a shape error rather than something to guess about.
_SEPARATORS: Final = re.compile(r"[\s\-\u2010\u2011\u2012\u2013\u2014\u2212]+")
# ASCII digits only: str.isdigit() and int() also accept e.g. Arabic-Indic digits, which would
# then be stored and compared in a different spelling than the canonical number.
_DIGITS_11: Final = re.compile(r"[0-9]{11}")
_ACCESS_CODE: Final = re.compile(rf"[0-9]{{{ACCESS_CODE_DIGITS}}}")


class InvalidRegistrationNumber(ValueError):
    """The text is not a registration number.

    ``reason`` is ``"bad_shape"`` (wrong characters or number of digits) or
    ``"bad_check_digit"`` (right shape, but a digit was mistyped).
    """

    def __init__(self, reason: str, text: str = "") -> None:
        super().__init__(f"invalid registration number ({reason}): {text!r}")
        self.reason = reason


def _check_digit(year: int, seq: int) -> str:
    return damm.calc_check_digit(f"{year:04d}{seq:06d}")


def format_number(year: int, seq: int) -> str:
    """Render ``year`` and sequence ``seq`` (1-based) as ``YYYY-NNNNNN-C``."""
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"year out of range: {year}")
    # Running past six digits would silently change the format (and the keypad length users
    # learn from the receipt), so it is an error for the counter's owner to handle.
    if not 1 <= seq <= MAX_SEQUENCE:
        raise ValueError(f"sequence out of range: {seq}")
    return f"{year:04d}-{seq:06d}-{_check_digit(year, seq)}"


def _digits(text: str) -> str:
    digits = _SEPARATORS.sub("", text)
    if not _DIGITS_11.fullmatch(digits):
        raise InvalidRegistrationNumber("bad_shape", text)
    return digits


def parse_number(text: str) -> tuple[int, int]:
    """Return ``(year, seq)`` of a registration number as typed.

    Separators are optional and may be spaces or dashes (``2026 000123 8``, ``20260001238``),
    because the grouping is fixed (4+6+1 digits) and the check digit guards the rest.
    Raises :class:`InvalidRegistrationNumber`.
    """
    digits = _digits(text)
    if damm.checksum(digits) != 0:
        raise InvalidRegistrationNumber("bad_check_digit", text)
    year, seq = int(digits[:4]), int(digits[4:10])
    if year < MIN_YEAR or seq < 1:
        # Checksum-valid but never issued (format_number refuses them), so "no such number"
        # is the honest answer; treating it as a shape error keeps it out of look-ups.
        raise InvalidRegistrationNumber("bad_shape", text)
    return year, seq


def normalize(text: str) -> str:
    """Return the canonical ``YYYY-NNNNNN-C`` spelling of a valid number as typed.

    Validates fully (shape and check digit): the canonical form is what is stored and looked up,
    and a number that fails its check digit can never match one we issued.
    """
    return format_number(*parse_number(text))


def is_valid(text: str) -> bool:
    try:
        parse_number(text)
    except InvalidRegistrationNumber:
        return False
    return True


# --- access codes -------------------------------------------------------------------------------

# An access code has only 10^8 values, so anyone holding a copy of the database could try them
# all offline; the hash, not the code, has to make that expensive. Argon2id is salted (one search
# per appeal, no precomputed tables) and memory-hard (GPUs/ASICs gain little). The parameters are
# OWASP's first recommended set for Argon2id (19 MiB, 2 passes, 1 lane): about 22 ms of CPU per
# hash on the 2-core target machine (argon2-cffi 25.1), so 10^8 x 22 ms ≈ 25 CPU-days to exhaust
# a single appeal's code. The earlier set (32 MiB, 3 passes, 2 lanes) cost 70 ms of CPU at every
# submit, the largest single cost of an appeal at a region's peak, for a margin the salt and the
# memory already give. Hashes made with it still verify and are re-hashed at the next look-up.
# Online guessing is stopped by the look-up's lockout, not by this.
_access_code_hasher: Final = PasswordHasher(
    time_cost=2,
    memory_cost=19 * 1024,  # KiB
    parallelism=1,
    hash_len=32,
    salt_len=16,
)


# Argon2 takes its 19 MiB per hash from malloc, and each thread's arena keeps what it freed: with
# asyncio's default pool a burst of submits left the gateway 110 MB larger. Two threads (one per
# core of the target machine) bound that to about 40 MB, and a busy gateway no faster anyway.
_hashing: Final = ThreadPoolExecutor(max_workers=2, thread_name_prefix="access-code")


async def off_loop(fn: Callable[..., T], *args: Any) -> T:
    """Run a hash or a verify (tens of milliseconds of CPU) off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(_hashing, fn, *args)


def new_access_code() -> str:
    """Eight random digits, printed on the receipt next to the registration number."""
    return f"{secrets.randbelow(10**ACCESS_CODE_DIGITS):0{ACCESS_CODE_DIGITS}d}"


def hash_access_code(code: str) -> str:
    """Argon2id hash (PHC string, parameters and salt included) of an access code.

    Blocking and deliberately slow: call it from a worker thread in async code.
    """
    if not _ACCESS_CODE.fullmatch(code):
        raise ValueError("an access code is exactly 8 ASCII digits")
    return _access_code_hasher.hash(code)


def verify_access_code(code_hash: str, code: str) -> bool:
    """True iff ``code`` is the code hashed in ``code_hash``. Never raises on bad input.

    Blocking and deliberately slow: call it from a worker thread in async code.
    """
    if not _ACCESS_CODE.fullmatch(code):
        # The shape of a code is public (8 digits), so skipping the hash here reveals nothing.
        return False
    try:
        return _access_code_hasher.verify(code_hash, code)
    except (VerificationError, InvalidHashError):
        # VerifyMismatchError is a VerificationError; InvalidHashError covers a corrupt record.
        return False


def access_code_needs_rehash(code_hash: str) -> bool:
    """True when ``code_hash`` was made with other parameters than the current ones.

    The plain code is only known at a successful look-up, so that is the moment to re-hash.
    """
    try:
        return _access_code_hasher.check_needs_rehash(code_hash)
    except InvalidHashError:
        return True


# --- kiosk tokens -------------------------------------------------------------------------------


def new_kiosk_token() -> str:
    """A 256-bit random bearer token for a booth, URL-safe text (43 characters)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 hex digest of a kiosk token, the form in which tokens are stored and looked up.

    Unlike access codes, a token has 2^256 possible values, so there is nothing to brute-force
    and a slow or salted hash would add no protection; what matters is that the stored value is
    not the credential itself. An unsalted fast hash is also deterministic, which lets the
    gateway find the kiosk with one indexed equality query per request instead of verifying the
    presented token against every kiosk's salted hash.
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
