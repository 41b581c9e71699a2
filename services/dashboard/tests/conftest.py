"""The dashboard under test: `dialog run` in one process, so routing, media-store, the gateway
and the notifier it talks to are the real ones. Each test module starts its own process (a test
that moves the clock then moves it only for its own module)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import re
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from dialog_platform.testing.booth_api import file_appeal
from dialog_platform.testing.launch import TEST_SECRET, SingleProcess, dialog_exe
from dialog_platform.testing.waiting import eventually

MAX_VIDEO_BYTES = 3_000_000
ENV = {
    "DIALOG_KIOSK_GATEWAY_MAX_VIDEO_BYTES": str(MAX_VIDEO_BYTES),
    "DIALOG_MEDIA_STORE_MAX_BYTES": str(MAX_VIDEO_BYTES),
    "DIALOG_BUS_RETRY_FIRST_DELAY_S": "0.2",
    "DIALOG_NOTIFIER_QUIET_START": "00:00",
    "DIALOG_NOTIFIER_QUIET_END": "00:00",
    # Many tests log in from this one address; the per-client limit has its own test.
    "DIALOG_DASHBOARD_LOGIN_PER_IP_PER_MINUTE": "10000",
    "DIALOG_DASHBOARD_INBOX_POLL_S": "1",
}
PASSWORD = "correct-horse-battery"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def internal() -> dict[str, str]:
    token = hmac.new(TEST_SECRET.encode(), b"dialog-internal-v1", hashlib.sha256).hexdigest()
    return {"X-Dialog-Internal": token}


@dataclass
class Dialog:
    runner: SingleProcess
    mongo_url: str
    accounts: set[str] = field(default_factory=set)

    @property
    def url(self) -> str:
        return self.runner.url

    def cli(self, args: list[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [dialog_exe(), *args],
            env={**os.environ, **self.runner.cli_env()},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def user(self, login: str, role: str, official: str | None = None) -> str:
        """An account made with `dialog user add` (once per process); returns its login."""
        if login not in self.accounts:
            args = ["user", "add", login, "--role", role, "--password-stdin"]
            if official:
                args += ["--official", official]
            done = self.cli(args, stdin=PASSWORD + "\n")
            assert done.returncode == 0, done.stderr
            self.accounts.add(login)
        return login

    async def audit(self, **query: Any) -> list[dict[str, Any]]:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(self.mongo_url, tz_aware=True)
        try:
            return [a async for a in client["dialog_dashboard"].audit.find(query)]
        finally:
            await client.close()

    async def case(self, http: httpx.AsyncClient, appeal_id: str) -> dict[str, Any]:
        r = await http.get(f"{self.url}/api/v1/cases/{appeal_id}", headers=internal())
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()
        return result

    async def internal_answers(self, http: httpx.AsyncClient, appeal_id: str) -> httpx.Response:
        return await http.get(
            f"{self.url}/dashboard/internal/answers/{appeal_id}", headers=internal()
        )


@pytest.fixture(scope="module")
def dialog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dialog]:
    tmp = tmp_path_factory.mktemp("dialog")
    runner = SingleProcess(data_dir=tmp, env=ENV)
    runner.start()
    try:
        state = json.loads((tmp / "nx-27017.json").read_text())
        yield Dialog(
            runner=runner, mongo_url=f"mongodb://127.0.0.1:{state['port']}/?directConnection=true"
        )
    finally:
        runner.stop()


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from dialog_platform.testing.webm import make_webm

    d = tmp_path_factory.mktemp("videos")
    return {
        "appeal": make_webm(d / "appeal.webm", seconds=6),
        "answer": make_webm(d / "answer.webm", seconds=3),
    }


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=60) as client:
        yield client


class Browser:
    """What a browser does with the dashboard's pages: cookies, forms with their CSRF token."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.client = httpx.AsyncClient(base_url=base, timeout=60, follow_redirects=False)
        self.last = ""

    async def aclose(self) -> None:
        await self.client.aclose()

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        response = await self.client.get(path, **kwargs)
        if response.headers.get("content-type", "").startswith("text/html"):
            self.last = response.text
        return response

    def csrf(self) -> str:
        found = CSRF.search(self.last)
        assert found, "no CSRF token on the last page"
        return found.group(1)

    async def post(
        self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kwargs: Any
    ) -> httpx.Response:
        form = dict(data or {})
        if csrf:
            form["csrf"] = self.csrf()
        response = await self.client.post(path, data=form, **kwargs)
        if response.headers.get("content-type", "").startswith("text/html"):
            self.last = response.text
        return response

    async def login(self, login: str, password: str = PASSWORD) -> httpx.Response:
        await self.get("/dashboard/login")
        return await self.post("/dashboard/login", {"login": login, "password": password})


@pytest.fixture
async def browser(dialog: Dialog) -> AsyncIterator[Callable[[], Browser]]:
    opened: list[Browser] = []

    def open_one() -> Browser:
        b = Browser(dialog.url)
        opened.append(b)
        return b

    yield open_one
    for b in opened:
        await b.aclose()


async def logged_in(make: Callable[[], Browser], login: str) -> Browser:
    b = make()
    response = await b.login(login)
    assert response.status_code == 303, response.text
    return b


@dataclass
class Appeal:
    appeal_id: str
    registration_number: str
    access_code: str
    official_id: str
    phone: str
    video: bytes


async def make_appeal(
    dialog: Dialog,
    http: httpx.AsyncClient,
    video: Path,
    *,
    official_id: str = "deputy-housing",
    language: str = "kk",
    phone: str = "+7 701 234 56 78",
    full_name: str = "Айгүл Серікқызы Нұрланова",
    iin: str = "900101400013",
) -> Appeal:
    """Record an appeal at a booth (register kiosk, create, upload a real WebM, submit) and
    wait until routing has opened its case."""
    kiosk_id = f"booth-{uuid.uuid4().hex[:8]}"
    token = dialog.runner.kiosk_add(kiosk_id, "Өскемен, №1 ХҚКО / Усть-Каменогорск, ЦОН №1")
    data = await asyncio.to_thread(video.read_bytes)
    body = {
        "official_id": official_id,
        "phone": phone,
        "language": language,
        "category": "question",
        "consent": True,
        "full_name": full_name,
        "iin": iin,
    }
    receipt = await file_appeal(http, dialog.url, token, body, data)

    async def routed() -> bool:
        r = await http.get(f"{dialog.url}/api/v1/cases/{receipt['appeal_id']}", headers=internal())
        return r.status_code == 200

    await eventually(routed)
    return Appeal(
        appeal_id=receipt["appeal_id"],
        registration_number=receipt["registration_number"],
        access_code=receipt["access_code"],
        official_id=official_id,
        phone=phone,
        video=data,
    )
