"""Service-to-service calls carry a token derived from the shared secret.

Internal endpoints (media-store's object writes, for example) are not for booths or browsers;
NetworkPolicies keep them inside the cluster and this token keeps them closed in one process too.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from .settings import CommonSettings, get_settings

HEADER = "X-Dialog-Internal"


def token_for(secret_key: str) -> str:
    return hmac.new(secret_key.encode(), b"dialog-internal-v1", hashlib.sha256).hexdigest()


def internal_token(settings: CommonSettings) -> str:
    return token_for(settings.secret_key.get_secret_value())


def internal_headers(settings: CommonSettings) -> dict[str, str]:
    return {HEADER: internal_token(settings)}


def _require_internal(request: Request) -> None:
    settings: CommonSettings = getattr(request.app.state, "settings", None) or get_settings()
    given = request.headers.get(HEADER, "")
    if not hmac.compare_digest(given, internal_token(settings)):
        raise HTTPException(status_code=403, detail="internal endpoint")


RequireInternal = Annotated[None, Depends(_require_internal)]
