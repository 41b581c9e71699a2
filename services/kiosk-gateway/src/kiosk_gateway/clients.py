"""Calls to other services' HTTP APIs (media-store's objects, the dashboard's answers, routing's
word on a disputed answer)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from dialog_contracts.routing_api import CaseDispute, case_path
from dialog_platform.clients import ServiceApi
from dialog_platform.internal import internal_headers
from dialog_platform.settings import CommonSettings


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


class DashboardClient(ServiceApi):
    """The dashboard's internal answers API (the answer text never travels in an event)."""

    async def current_answer(self, appeal_id: str) -> dict[str, Any] | None:
        """The last entry of the appeal's answers (a correction replaces what it corrects).

        None when there is none or the dashboard cannot be reached: the citizen then sees the
        appeal as answered, with the text to come, rather than an error.
        """
        found = await self.optional(f"/dashboard/internal/answers/{quote(appeal_id, safe='')}")
        answers = found.get("answers") if isinstance(found, dict) else None
        if not isinstance(answers, list) or not answers:
            return None
        last: dict[str, Any] = answers[-1]
        return last


class RoutingClient(ServiceApi):
    """What routing decided on a citizen's "did not help" (the note never travels in an event)."""

    async def dispute(self, appeal_id: str) -> CaseDispute | None:
        """None when routing cannot be reached: the citizen then sees "under review"."""
        found = await self.optional(case_path(appeal_id, "dispute"))
        try:
            return CaseDispute.model_validate(found) if isinstance(found, dict) else None
        except ValidationError:
            return None
