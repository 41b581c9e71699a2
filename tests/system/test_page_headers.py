"""Every HTML page of every service carries the security headers.

The routes are enumerated from the app itself (every component, every GET route, the ones left
out of the API schema included), so a page added later is covered without touching this test.
Each is asked for by an anonymous client and by a logged-in admin.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from dashboard.accounts import Accounts
from dashboard.settings import DashboardSettings
from dialog_platform.ratelimit import SlidingWindow
from dialog_platform.runner import build_app
from dialog_platform.settings import CommonSettings
from dialog_platform.targets import component_names
from dialog_platform.testing.dashboard import forms
from dialog_platform.testing.launch import TEST_SECRET

PARAM = re.compile(r"\{([a-z_]+)(:path)?\}")
PASSWORD = "page-headers-password-1"


def get_paths(routes: list[Any], prefix: str = "") -> Iterator[str]:
    """Every GET path of `routes`, through the routers included in them."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from get_paths(included.routes, prefix + route.include_context.prefix)
        elif "GET" in (getattr(route, "methods", None) or ()):
            yield prefix + route.path


def filled(path: str) -> str:
    # Ids that exist nowhere: the page (or its error page) is what is checked.
    return PARAM.sub(lambda m: "a/b" if m.group(2) else "0" * 32, path)


def assert_page_headers(response: httpx.Response, where: str) -> None:
    csp = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp, where
    assert "frame-ancestors 'none'" in csp, where
    assert response.headers.get("x-content-type-options") == "nosniff", where
    assert response.headers.get("referrer-policy"), where


async def test_every_html_page_carries_the_security_headers(tmp_path: Path) -> None:
    settings = CommonSettings(data_dir=tmp_path, secret_key=TEST_SECRET)
    app = build_app(settings, component_names(), self_url="http://127.0.0.1:9")
    async with app.router.lifespan_context(app):
        state = json.loads((tmp_path / "nx-27017.json").read_text())
        url = f"mongodb://127.0.0.1:{state['port']}/?directConnection=true"
        async with AsyncMongoClient[dict[str, Any]](url, tz_aware=True) as mongo:
            accounts = Accounts(
                db=mongo["dialog_dashboard"],
                settings=DashboardSettings(),
                clock=lambda: datetime.now(UTC),
                ip_limiter=SlidingWindow(100, 60.0),
            )
            await accounts.add(login="pages", role="admin", official_id=None, password=PASSWORD)
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://dialog") as anonymous,
            httpx.AsyncClient(transport=transport, base_url="http://dialog") as admin,
        ):
            login = await admin.get("/dashboard/login")
            form = forms(login.text)["/dashboard/login"]
            done = await admin.post(
                form.action, data={**form.hidden, "login": "pages", "password": PASSWORD}
            )
            assert done.status_code == 303, done.text
            paths = sorted(set(get_paths(app.router.routes)))
            # The booth and tracking pages, the dashboard and the docs at least.
            assert {"/kiosk", "/track", "/dashboard/login", "/api/docs"} <= set(paths), paths
            pages = 0
            for path in paths:
                for who, http in (("anonymous", anonymous), ("admin", admin)):
                    response = await http.get(filled(path))
                    if response.headers.get("content-type", "").startswith("text/html"):
                        pages += 1
                        assert_page_headers(response, f"{who} {path}")
                    else:
                        # Not a page, and never to be sniffed into one.
                        nosniff = response.headers.get("x-content-type-options")
                        assert nosniff == "nosniff", f"{who} {path}"
            assert pages >= 10, pages
