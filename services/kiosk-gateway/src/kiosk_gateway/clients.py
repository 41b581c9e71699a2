"""Calls to other services' HTTP APIs (routing's directory, media-store's objects)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx

from dialog_platform.internal import internal_headers
from dialog_platform.settings import CommonSettings

from .messages import error


class DirectoryClient:
    """routing's officials directory, cached briefly so the picker stays fast."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, *, cache_s: float) -> None:
        self.http = http
        self.base_url = base_url
        self.cache_s = cache_s
        self._cached: tuple[float, list[dict[str, Any]]] | None = None

    async def officials(self) -> list[dict[str, Any]]:
        if self._cached and time.monotonic() - self._cached[0] < self.cache_s:
            return self._cached[1]
        try:
            response = await self.http.get(f"{self.base_url}/api/v1/directory/officials")
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise error(503, "directory_unavailable") from exc
        officials: list[dict[str, Any]] = response.json()["officials"]
        self._cached = (time.monotonic(), officials)
        return officials

    async def _get(self, path: str) -> httpx.Response | None:
        """GET from routing's directory; None for 404, a 503 error when routing fails."""
        try:
            response = await self.http.get(f"{self.base_url}/api/v1/directory/{path}")
        except httpx.HTTPError as exc:
            raise error(503, "directory_unavailable") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise error(503, "directory_unavailable")
        return response

    async def official(self, official_id: str) -> dict[str, Any] | None:
        response = await self._get(f"officials/{quote(official_id, safe='')}")
        if response is None:
            return None
        result: dict[str, Any] = response.json()
        return result

    async def photo(self, official_id: str) -> tuple[bytes, str, str] | None:
        """(bytes, content type, etag) of an official's photo, or None."""
        response = await self._get(f"officials/{quote(official_id, safe='')}/photo")
        if response is None:
            return None
        etag = response.headers.get("etag", "")
        return response.content, response.headers.get("content-type", "image/png"), etag


class MediaRejected(Exception):
    def __init__(self, status: int, code: str) -> None:
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code


class MediaClient:
    def __init__(self, http: httpx.AsyncClient, base_url: str, settings: CommonSettings) -> None:
        self.http = http
        self.base_url = base_url
        self.headers = internal_headers(settings)

    def _url(self, key: str) -> str:
        return f"{self.base_url}/api/v1/media/objects/{quote(key, safe='/')}"

    async def put_video(self, key: str, chunks: AsyncIterator[bytes]) -> dict[str, Any]:
        """Stream the video through; media-store validates and stores it as it arrives."""
        try:
            response = await self.http.put(
                self._url(key),
                content=chunks,
                headers={**self.headers, "Content-Type": "video/webm"},
                timeout=httpx.Timeout(120.0, connect=5.0),
            )
        except httpx.HTTPError as exc:
            raise MediaRejected(503, "storage_unavailable") from exc
        if response.status_code == 201:
            stored: dict[str, Any] = response.json()
            return stored
        code = "storage_unavailable"
        with contextlib.suppress(ValueError, KeyError, TypeError):
            code = response.json()["error"]["code"]
        raise MediaRejected(response.status_code, code)

    async def delete(self, key: str) -> None:
        # On failure, media-store's janitor removes what is left.
        with contextlib.suppress(httpx.HTTPError):
            await self.http.delete(self._url(key), headers=self.headers)

    async def playback_url(self, key: str) -> str | None:
        try:
            response = await self.http.get(f"{self._url(key)}/url", headers=self.headers)
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        url: str = response.json()["url"]
        return url


class DashboardClient:
    """The dashboard's internal answers API (the answer text never travels in an event)."""

    def __init__(self, http: httpx.AsyncClient, base_url: str | None, settings: CommonSettings):
        self.http = http
        self.base_url = base_url
        self.headers = internal_headers(settings)

    async def current_answer(self, appeal_id: str) -> dict[str, Any] | None:
        """The last entry of the appeal's answers (a correction replaces what it corrects).

        None when there is none or the dashboard cannot be reached: the citizen then sees the
        appeal as answered, with the text to come, rather than an error.
        """
        if self.base_url is None:
            return None
        url = f"{self.base_url}/dashboard/internal/answers/{quote(appeal_id, safe='')}"
        try:
            response = await self.http.get(url, headers=self.headers, timeout=10.0)
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        try:
            answers = response.json()["answers"]
        except (ValueError, KeyError, TypeError):
            return None
        if not isinstance(answers, list) or not answers:
            return None
        last: dict[str, Any] = answers[-1]
        return last
