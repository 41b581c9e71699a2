"""Signed, expiring playback URLs for the local-folder media store.

The local adapter has no presigning server, so media-store serves the bytes itself at
`PLAYBACK_PATH/<key>?expires=<unix>&sig=<hmac>`; these functions make and check `sig`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from .base import MAX_URL_TTL, InvalidKey, check_key

PLAYBACK_PATH = "/api/v1/media/play"

# The secret also signs other tokens; a purpose label keeps a signature made for one use from
# being valid for another.
_PURPOSE = b"dialog.media.playback.v1"

# Signer and verifier may run on different hosts; tolerate this much clock difference when
# refusing expiries further ahead than any URL we issue.
CLOCK_SKEW_S = 60


def _secret_bytes(secret: str | bytes) -> bytes:
    value = secret.encode("utf-8") if isinstance(secret, str) else secret
    if not value:
        raise ValueError("empty signing secret")
    return value


def sign_playback(secret: str | bytes, key: str, expires: int) -> str:
    """The URL-safe signature of (`key`, `expires`), HMAC-SHA256 with `secret`."""
    # Keys cannot contain control characters (check_key), so "\n" separates the fields
    # unambiguously.
    message = b"\n".join((_PURPOSE, key.encode("utf-8"), str(int(expires)).encode("ascii")))
    digest = hmac.new(_secret_bytes(secret), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verify_playback(
    secret: str | bytes, key: str, expires: int, sig: str, now: float | None = None
) -> bool:
    """True if `sig` signs (`key`, `expires`) and `now` (default: the clock) is not past `expires`.

    Also False for an expiry further ahead than the longest TTL we issue, and for a key that
    breaks the key rules, so a leaked or hand-made long-lived signature is useless.
    """
    current = time.time() if now is None else now
    if current > expires:
        return False
    if expires > current + MAX_URL_TTL.total_seconds() + CLOCK_SKEW_S:
        return False
    try:
        check_key(key)
    except InvalidKey:
        return False
    expected = sign_playback(secret, key, expires)
    return hmac.compare_digest(expected.encode("ascii"), sig.encode("utf-8", "replace"))
