"""The open figures for everyone: the gateway's copy, from which `pages/open_figures.py` serves
`/open`, its downloads (CSV, JSON) and the README of the fields.

Routing computes the figures (it owns the cases); this gateway pulls them every few minutes into
its own database and serves every request from memory. A pull rather than an event, so that the
page is served while routing is down or restarting, a gateway started later fills itself at once,
and the public's load never reaches routing: a request costs one dictionary look-up.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from dialog_platform.clients import unreachable_level
from dialog_platform.errors import ApiError

from . import open_html
from .open_data import as_csv, as_json
from .open_text import COLUMNS

__all__ = ["COLUMNS", "RETRY_S", "OpenFiguresCopy"]

log = logging.getLogger(__name__)
Doc = dict[str, Any]
COLLECTION = "open_figures"
RETRY_S = 5.0  # until the first snapshot arrives, and after a failed pull


@dataclass
class OpenFiguresCopy:
    """The gateway's copy of routing's open figures, and the bytes served from it."""

    db: AsyncDatabase[Doc]
    http: httpx.AsyncClient
    routing_url: str
    headers: dict[str, str]
    interval_s: float
    data: Doc | None = None
    _fetched: float = 0.0
    _failing: bool = False
    _warned: bool = False
    _since: float = field(default_factory=time.monotonic)
    _served: dict[tuple[str, ...], tuple[bytes, str]] = field(default_factory=dict)

    async def load(self) -> None:
        """The last copy saved, so a restarted gateway serves it before routing answers."""
        doc = await self.db[COLLECTION].find_one({"_id": "current"})
        if doc is not None and self.data is None:
            self._use(doc["data"])

    def _use(self, data: Doc) -> None:
        self.data = data
        self._served = {}

    async def refresh(self) -> None:
        """Run every few seconds; pulls only when the copy is older than `interval_s`."""
        if self.data is not None and time.monotonic() - self._fetched < self.interval_s:
            return
        if self.data is None:
            await self.load()
        try:
            response = await self.http.get(
                f"{self.routing_url}/api/v1/open-figures", headers=self.headers, timeout=30.0
            )
            response.raise_for_status()
            data = response.json()
            if not isinstance(data.get("rows"), list) or not data.get("months"):
                raise ValueError("no rows or months")
        except (httpx.HTTPError, ValueError) as exc:
            # Served from the last copy meanwhile; tried again in a few seconds, said once (as
            # a warning once it outlasts the start, when routing may not be up yet).
            starting = unreachable_level(self._since) < logging.WARNING
            if not starting and not self._warned:
                level, self._warned = logging.WARNING, True
            else:
                level = logging.DEBUG if self._failing else logging.INFO
            log.log(level, "open figures not refreshed from routing: %s", exc)
            self._failing = True
            return
        self._failing = self._warned = False
        await self.db[COLLECTION].replace_one(
            {"_id": "current"},
            {"_id": "current", "data": data, "fetched_at": datetime.now(UTC)},
            upsert=True,
        )
        self._fetched = time.monotonic()
        self._use(data)

    def served(self, kind: str, lang: str = "", month: str = "") -> tuple[bytes, str]:
        """The bytes and ETag of one response, built once per copy of the figures."""
        key = (kind, lang, month)
        if key not in self._served:
            if kind == "page":
                body = open_html.open_page(self.data, lang, month or None)
            elif kind == "readme":
                body = open_html.readme_page(lang)
            elif self.data is None:
                raise ApiError(
                    503,
                    "open_figures_unavailable",
                    "Көрсеткіштер әлі дайын емес. Біраздан кейін қайталаңыз",
                    "Показатели ещё не готовы. Повторите немного позже",
                )
            else:
                body = as_csv(self.data) if kind == "csv" else as_json(self.data)
            self._served[key] = (body, f'"{hashlib.sha256(body).hexdigest()[:32]}"')
        return self._served[key]
