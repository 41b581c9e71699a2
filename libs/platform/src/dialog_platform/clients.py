"""One base for every call a service makes to another service's internal HTTP API.

Every call carries the internal token. What can go wrong is one of two things, told apart here
once for all callers:

- `Unavailable` — the other service cannot be reached, times out or answers 5xx: a passing
  outage (`faults.Transient`), which a handler waits out and a page reports as such;
- `Refused` — it answered 4xx with our error shape: the request itself is wrong, with that
  service's kk/ru message, so a form can show it next to the field.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import httpx

from .faults import Transient
from .internal import internal_headers
from .settings import CommonSettings

log = logging.getLogger(__name__)

Json = dict[str, Any]


class Refused(Exception):
    def __init__(self, status: int, code: str, message: dict[str, str], field: str | None) -> None:
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code
        self.message = message
        self.field = field


class Unavailable(Transient):
    """The other service did not answer, or answered with a server error."""


def refusal(response: httpx.Response) -> Refused:
    code, message, field = "invalid", {}, None
    with contextlib.suppress(ValueError, KeyError, TypeError, AttributeError):
        error = response.json()["error"]
        code = str(error.get("code", code))
        message = {k: str(v) for k, v in (error.get("message") or {}).items()}
        field = error.get("field")
    return Refused(response.status_code, code, message, field)


class ServiceApi:
    """One other service's internal API, at the address the runner gave (`ctx.service_url`)."""

    def __init__(
        self, http: httpx.AsyncClient, base_url: str | None, settings: CommonSettings
    ) -> None:
        self.http = http
        self.base_url = base_url or ""
        self.headers = internal_headers(settings)

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        content: Any = None,
        headers: dict[str, str] | None = None,
        timeout_s: float | httpx.Timeout | None = None,
    ) -> httpx.Response:
        if not self.base_url:
            raise Unavailable("no address configured for this service")
        query = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        try:
            response = await self.http.request(
                method,
                f"{self.base_url}{path}",
                params=query,
                json=json,
                content=content,
                headers={**self.headers, **(headers or {})},
                timeout=timeout_s if timeout_s is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.HTTPError as exc:
            log.warning("service unreachable", extra={"url": self.base_url, "error": str(exc)})
            raise Unavailable(self.base_url) from exc
        if response.status_code >= 500:
            raise Unavailable(f"{self.base_url}{path}: {response.status_code}")
        if response.status_code >= 400:
            raise refusal(response)
        return response

    async def json(self, method: str, path: str, **kwargs: Any) -> Json:
        response = await self.call(method, path, **kwargs)
        try:
            result: Json = response.json()
        except ValueError as exc:
            raise Unavailable(f"{self.base_url}{path}: not JSON") from exc
        return result

    async def optional(self, path: str, *, timeout_s: float = 10.0) -> Any:
        """A read a citizen's page can do without: None whatever went wrong, so the page
        shows what this service knows itself."""
        if not self.base_url:
            return None
        try:
            return await self.json("GET", path, timeout_s=timeout_s)
        except (Unavailable, Refused):
            return None
