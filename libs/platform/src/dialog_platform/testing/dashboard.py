"""Answer an appeal the way an official does, through the running dashboard's own pages.

Tests of other services that need an answered appeal use this instead of faking the dashboard:
the login form with its CSRF token, the case page's answer form, and the page's own video upload
route. Whatever the form asks for (a correction names the answer it replaces) is read from the
page, so the helper follows the dashboard when its pages change rather than guessing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from html.parser import HTMLParser
from types import TracebackType

import httpx

LOGIN_PATH = "/dashboard/login"
ANSWER_FORM = "answer-form"
CSRF_HEADER = "X-CSRF-Token"


@dataclass
class Form:
    action: str
    upload: str | None
    hidden: dict[str, str] = field(default_factory=dict)


class _Forms(HTMLParser):
    """The forms of a page: their action, upload route and hidden fields."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, Form] = {}
        self._current: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = Form(action=a.get("action", ""), upload=a.get("data-upload"))
            self.forms[a.get("id") or a.get("action", "")] = self._current
        elif tag == "input" and self._current is not None and a.get("type") == "hidden":
            self._current.hidden[a.get("name", "")] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def forms(page: str) -> dict[str, Form]:
    """Forms by id, or by action when they have none."""
    parser = _Forms()
    parser.feed(page)
    return parser.forms


@dataclass(frozen=True)
class Posted:
    """What the official's answer was sent with."""

    video_key: str | None
    corrects: str | None  # the answer this one replaces; None for the first answer


KEEPALIVE_S = 2.0


class Official:
    """One official's browser: its own cookies, so its session is not the test's other clients'."""

    def __init__(self, base_url: str, *, timeout: float = 60.0) -> None:
        # Idle connections are dropped before uvicorn's 5 s keep-alive ends: at the same 5 s, a
        # request could go out on a connection the server was closing ("Server disconnected").
        limits = httpx.Limits(keepalive_expiry=KEEPALIVE_S)
        self.client = httpx.AsyncClient(
            base_url=base_url, timeout=timeout, follow_redirects=False, limits=limits
        )

    async def __aenter__(self) -> Official:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.client.aclose()

    async def login(self, login: str, password: str) -> None:
        page = await self.client.get(LOGIN_PATH)
        form = forms(page.text).get(LOGIN_PATH)
        assert form is not None, f"no login form at {LOGIN_PATH} ({page.status_code})"
        done = await self.client.post(
            form.action, data={**form.hidden, "login": login, "password": password}
        )
        # A wrong login re-renders the form; there is no point retrying, each failure counts
        # towards the account's lock.
        assert done.status_code == 303, f"login as {login!r} refused ({done.status_code})"

    async def case_page(self, appeal_id: str, *, wait_s: float = 30.0) -> str:
        """The case page, once routing has opened the case (right after submit it has not)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while True:
            page = await self.client.get(f"/dashboard/cases/{appeal_id}")
            if page.status_code == 200:
                return page.text
            assert page.status_code == 404, f"case page answered {page.status_code}: {page.text}"
            assert loop.time() < deadline, f"case {appeal_id} not in the dashboard after {wait_s}s"
            await asyncio.sleep(0.2)

    async def answer(
        self, appeal_id: str, text: str, video: bytes | None = None, *, wait_s: float = 30.0
    ) -> Posted:
        """Answer the case, or correct its answer when it has one (the page offers only that)."""
        form = forms(await self.case_page(appeal_id, wait_s=wait_s)).get(ANSWER_FORM)
        assert form is not None, f"no answer form on the case page of {appeal_id}"
        csrf = form.hidden.get("csrf", "")
        fields = {**form.hidden, "text": text}
        if video is not None:
            assert form.upload, "the answer form offers no video upload"
            stored = await self.client.post(
                form.upload,
                content=video,
                headers={"Content-Type": "video/webm", CSRF_HEADER: csrf},
            )
            assert stored.status_code == 201, f"video upload: {stored.status_code} {stored.text}"
            fields["video_key"] = stored.json()["key"]
        posted = await self.client.post(form.action, data=fields)
        assert posted.status_code == 303, f"answer refused: {posted.status_code} {posted.text}"
        return Posted(
            video_key=fields.get("video_key") or None, corrects=fields.get("corrects") or None
        )


async def answer(
    base_url: str,
    *,
    login: str,
    password: str,
    appeal_id: str,
    text: str,
    video: bytes | None = None,
    wait_s: float = 30.0,
) -> Posted:
    """Log in, answer (or correct the answer of) one appeal, log the browser out of existence."""
    async with Official(base_url) as official:
        await official.login(login, password)
        return await official.answer(appeal_id, text, video, wait_s=wait_s)
