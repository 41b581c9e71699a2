"""The booth's side of a fault run: citizens making appeals with the booth page's retries, and
the receipts its printer puts out."""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from .config import (
    BOOTH_RETRY_DELAYS_S,
    CITIZEN_PRESSES_AGAIN_S,
    RECEIPT_POLL_S,
    FaultConfig,
)


class ReceiptWatch:
    """Notes every version of every receipt PNG: a reprint replaces the file with a new inode.

    PngPrinter writes a temp file and renames it over the old one, so a reprint shows as a new
    inode under the same name; the two prints of one receipt are seconds apart (a kill and a
    restart lie between them), far more than the polling interval. Each version's time is its
    inode's change time, which the rename sets: when it appeared, not when the poll came by
    (up to `RECEIPT_POLL_S` later, which was most of a receipt's time at a low rate).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.versions: dict[str, list[tuple[int, int, datetime]]] = defaultdict(list)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="receipt-watch", daemon=True)
        self._lock = threading.Lock()

    def start(self) -> ReceiptWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.scan()
            self._stop.wait(RECEIPT_POLL_S)

    def scan(self) -> None:
        try:
            entries = list(os.scandir(self.directory))
        except OSError:
            return
        with self._lock:
            for entry in entries:
                if entry.name.startswith(".") or not entry.name.endswith(".png"):
                    continue
                seen = self.versions[entry.name[: -len(".png")]]
                if seen and seen[-1][0] == entry.inode():
                    # Known already (the inode comes with the listing): a directory of a
                    # thousand receipts is not stat'ed ten times a second by ten watchers.
                    continue
                try:
                    st = entry.stat()
                except OSError:
                    continue
                if not seen or seen[-1][:2] != (st.st_ino, st.st_mtime_ns):
                    appeared = datetime.fromtimestamp(st.st_ctime_ns / 1e9, UTC)
                    seen.append((st.st_ino, st.st_mtime_ns, appeared))

    def snapshot(self) -> dict[str, list[datetime]]:
        with self._lock:
            return {name: [v[2] for v in seen] for name, seen in self.versions.items()}


@dataclass
class BoothResult:
    index: int
    phone: str
    official_id: str
    language: str
    category: str
    outcome: str = "abandoned"  # registered | answer_lost | abandoned | refused
    appeal_ids: list[str] = field(default_factory=list)
    registration_number: str | None = None
    tries: Counter[str] = field(default_factory=Counter)
    detail: str = ""


async def call(http: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
    """(status, JSON body); status 0 for a network failure, as the booth's fetch() sees it."""
    try:
        response = await http.request(method, url, **kwargs)
    except httpx.HTTPError:
        return 0, None
    try:
        body = response.json()
    except ValueError:
        body = None
    return response.status_code, body


def _error_code(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("code", ""))
    return ""


class Booth:
    """One citizen after another at the booth, making the booth page's requests and retries."""

    def __init__(
        self, gateway: str, token: str, video: bytes, officials: list[str], config: FaultConfig
    ) -> None:
        self.gateway = gateway
        self.auth = {"Authorization": f"Bearer {token}"}
        self.video = video
        self.officials = officials
        self.config = config

    def citizen(self, index: int, rng: random.Random) -> BoothResult:
        # A phone per appeal, so that each SMS names its appeal by recipient as well as by text.
        suffix = (self.config.seed * 10_007 + index) % 10_000_000
        return BoothResult(
            index=index,
            phone=f"+7705{suffix:07d}",
            official_id=rng.choice(self.officials),
            language=rng.choice(("kk", "ru")),
            category=rng.choice(("question", "violation")),
        )

    async def appeal(self, http: httpx.AsyncClient, result: BoothResult) -> BoothResult:
        deadline = time.monotonic() + self.config.patience_s
        body = {
            "official_id": result.official_id,
            "phone": result.phone,
            "language": result.language,
            "category": result.category,
            "consent": True,
            "full_name": "Айгүл Серікқызы Нұрланова",
            "iin": "900101400013",
        }
        # "Next" on the identity screen: on failure the booth shows the error and the citizen
        # presses again (kiosk.js sends nothing by itself).
        created: dict[str, Any] | None = None
        presses = 0
        while created is None:
            result.tries["create"] += 1
            status, answer = await call(
                http, "POST", f"{self.gateway}/api/v1/appeals", json=body, headers=self.auth
            )
            if status == 201 and isinstance(answer, dict):
                created = answer
                break
            if status not in (0,) and status < 500:
                result.outcome, result.detail = "refused", f"create answered {status}: {answer}"
                return result
            delay = BOOTH_RETRY_DELAYS_S[min(presses, len(BOOTH_RETRY_DELAYS_S) - 1)]
            presses += 1
            if time.monotonic() + delay > deadline:
                result.detail = f"create kept failing ({status})"
                return result
            await asyncio.sleep(delay)
        result.appeal_ids.append(created["appeal_id"])
        upload = f"{self.gateway}{created['upload_url']}"
        submit = f"{self.gateway}{created['submit_url']}"
        submitted_once = False
        while time.monotonic() < deadline:
            # send(): up to six uploads, then register(): up to six submits.
            uploaded = False
            for attempt in range(len(BOOTH_RETRY_DELAYS_S) + 1):
                if attempt:
                    await asyncio.sleep(BOOTH_RETRY_DELAYS_S[attempt - 1])
                result.tries["upload"] += 1
                status, answer = await call(
                    http,
                    "PUT",
                    upload,
                    content=self.video,
                    headers={**self.auth, "Content-Type": "video/webm"},
                )
                if status == 201:
                    uploaded = True
                    break
                if status == 0 or status >= 500:
                    continue
                if status == 409 and _error_code(answer) == "appeal_submitted" and submitted_once:
                    # A submit went through but its answer was lost: the booth cannot show the
                    # number; the printed receipt carries it.
                    result.outcome, result.detail = "answer_lost", "upload after submit: 409"
                    return result
                result.outcome, result.detail = "refused", f"upload answered {status}: {answer}"
                return result
            if uploaded:
                for attempt in range(len(BOOTH_RETRY_DELAYS_S) + 1):
                    result.tries["submit"] += 1
                    submitted_once = True
                    status, answer = await call(http, "POST", submit, headers=self.auth)
                    if status in (200, 201) and isinstance(answer, dict):
                        result.outcome = "registered"
                        result.registration_number = str(answer["registration_number"])
                        return result
                    if status == 409 and _error_code(answer) == "appeal_submitted":
                        result.outcome, result.detail = "answer_lost", "repeated submit: 409"
                        return result
                    if status != 0 and status < 500:
                        result.outcome = "refused"
                        result.detail = f"submit answered {status}: {answer}"
                        return result
                    if attempt < len(BOOTH_RETRY_DELAYS_S):
                        await asyncio.sleep(BOOTH_RETRY_DELAYS_S[attempt])
            if time.monotonic() + CITIZEN_PRESSES_AGAIN_S > deadline:
                break
            await asyncio.sleep(CITIZEN_PRESSES_AGAIN_S)
        result.detail = result.detail or "gave up: upload or submit kept failing"
        return result
