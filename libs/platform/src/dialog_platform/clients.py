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
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx

from .faults import Transient
from .internal import internal_headers
from .settings import CommonSettings

log = logging.getLogger(__name__)

Json = dict[str, Any]

# A neighbour that does not answer while this process starts is expected, not a fault: in one
# process the HTTP server listens only once every component has started, and in a cluster pods
# start in any order. Said at info then, at warning only when it lasts longer than this.
START_GRACE_S = 30.0


def unreachable_level(since: float) -> int:
    """The log level for a neighbour not answering, `since` being when this part started
    (a `time.monotonic()`)."""
    return logging.INFO if time.monotonic() - since < START_GRACE_S else logging.WARNING


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
        self._since = time.monotonic()

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
            log.log(
                unreachable_level(self._since),
                "service unreachable",
                extra={"url": self.base_url, "error": str(exc)},
            )
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


class MediaClient(ServiceApi):
    """media-store's objects: the gateway keeps citizens' videos there and the dashboard the
    answers' videos. Here, once, because a service never imports another."""

    # Two minutes without progress either way means media-store is stuck, while one that is
    # down fails within five seconds: both the booth and an official's upload say so soon.
    UPLOAD_TIMEOUT = httpx.Timeout(120.0, connect=5.0)

    def _path(self, key: str) -> str:
        return f"/api/v1/media/objects/{quote(key, safe='/')}"

    async def put_video(self, key: str, chunks: AsyncIterator[bytes]) -> Json:
        """Stream the body through as it comes (never held whole): media-store checks and
        stores it as it arrives. `Refused` carries its reason (too large, not WebM, ...)."""
        return await self.json(
            "PUT",
            self._path(key),
            content=chunks,
            headers={"Content-Type": "video/webm"},
            timeout_s=self.UPLOAD_TIMEOUT,
        )

    async def delete(self, key: str) -> None:
        # On failure, media-store's janitor removes what is left.
        with contextlib.suppress(Unavailable, Refused):
            await self.call("DELETE", self._path(key))

    async def playback_url(self, key: str) -> str | None:
        """A short-lived link to the object (relative for the local store), None when there
        is no such object; `Unavailable` when media-store cannot say."""
        try:
            found = await self.json("GET", f"{self._path(key)}/url")
        except Refused:
            return None
        url: str = found["url"]
        return url

    async def chunks(self, key: str) -> AsyncIterator[bytes]:
        """The object's bytes as they arrive, through its playback link."""
        url = await self.playback_url(key)
        if url is None:
            raise Refused(404, "not_found", {}, None)
        if url.startswith("/"):
            url = f"{self.base_url}{url}"
        try:
            async with self.http.stream("GET", url, timeout=httpx.Timeout(60.0)) as response:
                if response.status_code >= 400:
                    raise Unavailable(f"{key}: {response.status_code}")
                async for chunk in response.aiter_bytes(256 * 1024):
                    yield chunk
        except httpx.HTTPError as exc:
            raise Unavailable(key) from exc
