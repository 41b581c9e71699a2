"""The client's address through trusted proxies, the docs by environment, the lockout's rules."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pymongo import AsyncMongoClient

from dialog_platform.hardening import client_address, install_hardening
from dialog_platform.ratelimit import Locked, Lockout
from dialog_platform.settings import CommonSettings

PROXIES = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("192.0.2.1/32")]


def test_the_client_is_the_first_untrusted_hop_from_the_right() -> None:
    # Through the ingress (10.x) and a site proxy (192.0.2.1): the citizen is 203.0.113.7.
    assert client_address("10.1.2.3", ["203.0.113.7, 192.0.2.1"], PROXIES) == "203.0.113.7"
    # What the citizen wrote in front of that is ignored, whatever it says.
    forged = ["127.0.0.1, 198.51.100.9, 203.0.113.7, 192.0.2.1"]
    assert client_address("10.1.2.3", forged, PROXIES) == "203.0.113.7"
    # Two headers are one list, in order.
    assert client_address("10.1.2.3", ["198.51.100.9", "203.0.113.7"], PROXIES) == "203.0.113.7"
    # Only a trusted peer is believed at all.
    assert client_address("203.0.113.50", ["198.51.100.9"], PROXIES) == "203.0.113.50"
    assert client_address("203.0.113.50", ["198.51.100.9"], []) == "203.0.113.50"
    # Garbage beyond a trusted hop: the nearest address anybody vouches for.
    assert client_address("10.1.2.3", ["not-an-ip"], PROXIES) == "10.1.2.3"
    assert client_address("10.1.2.3", ["nonsense, 10.9.9.9"], PROXIES) == "10.9.9.9"
    # Ports and IPv6 as some proxies write them.
    assert client_address("10.1.2.3", ["203.0.113.7:5000"], PROXIES) == "203.0.113.7"
    assert client_address("10.1.2.3", ["[2001:db8::7]:443"], PROXIES) == "2001:db8::7"


def test_trusted_proxies_are_read_from_a_comma_separated_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DIALOG_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1,2001:db8::/32")
    assert [str(n) for n in CommonSettings().trusted_proxies] == [
        "10.0.0.0/8",
        "192.0.2.1/32",
        "2001:db8::/32",
    ]
    monkeypatch.setenv("DIALOG_TRUSTED_PROXIES", "10.0.0.0/8, the-ingress")
    with pytest.raises(ValueError, match="trusted_proxies"):
        CommonSettings()


def _app(settings: CommonSettings) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    install_hardening(app, settings)
    return app


async def _get(app: FastAPI, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dialog") as http:
        return await http.get(path)


async def test_api_docs_are_served_from_packaged_files_outside_production_only() -> None:
    development = _app(CommonSettings(environment="development"))
    page = await _get(development, "/api/docs")
    assert page.status_code == 200
    assert "https://" not in page.text and "<script>" not in page.text  # no CDN, no inline
    assert "script-src 'self'" in page.headers["content-security-policy"]
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "docs.js"):
        served = await _get(development, f"/api/docs/assets/{asset}")
        assert served.status_code == 200 and served.content, asset
    assert (await _get(development, "/api/docs/assets/index.html")).status_code == 404

    production = _app(CommonSettings(environment="production", secret_key="s" * 40))
    assert (await _get(production, "/api/docs")).status_code == 404
    assert (await _get(production, "/api/docs/assets/swagger-ui-bundle.js")).status_code == 404
    assert (await _get(production, "/api/openapi.json")).status_code == 200


@pytest.fixture
async def failures(mongo_url: str, db_prefix: str) -> AsyncIterator[Any]:
    async with AsyncMongoClient[dict[str, Any]](mongo_url, tz_aware=True) as client:
        yield client[f"{db_prefix}_lockout"].failures
        await client.drop_database(f"{db_prefix}_lockout")


async def test_a_lock_falls_on_the_client_that_failed_and_the_subject_is_only_slowed(
    failures: Any,
) -> None:
    now = [datetime(2026, 3, 2, 9, 0, tzinfo=UTC)]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    lockout = Lockout(
        failures,
        lambda: now[0],
        per_client=3,
        lock_s=600,
        daily_cap=6,
        max_delay_s=2.0,
        sleep=sleep,
    )
    await lockout.create_indexes()
    for left in (2, 1, 0):
        assert await lockout.failed(await lockout.admit("2026-000001-3", "script")) == left
    with pytest.raises(Locked) as locked:
        await lockout.admit("2026-000001-3", "script")
    assert 590 < locked.value.retry_after_s <= 601
    assert waits == []  # nobody waited yet
    # Another client: let in, but slowed now that the number is being guessed at.
    citizen = await lockout.admit("2026-000001-3", "citizen")
    assert waits == [0.25]
    await lockout.succeeded(citizen)
    # Other numbers are not touched.
    await lockout.admit("2026-000002-1", "script")
    # More clients guessing: each wait doubles, up to the cap; past the daily cap each client
    # gets one wrong try.
    for n in range(3):
        await lockout.failed(await lockout.admit("2026-000001-3", f"bot{n}"))
    assert waits[-3:] == [0.25, 0.5, 1.0]
    await lockout.failed(await lockout.admit("2026-000001-3", "bot9"))
    assert waits[-1] == 2.0  # capped
    with pytest.raises(Locked):
        await lockout.admit("2026-000001-3", "bot9")
    assert (await lockout.admit("2026-000001-3", "citizen")).left == 0
    # The client's lock opens when its failures leave the window; the day's count lasts a day.
    now[0] += timedelta(seconds=601)
    await lockout.admit("2026-000001-3", "script")
    assert await lockout.forget(now[0] - timedelta(days=1)) == 0
    now[0] += timedelta(days=1, seconds=1)
    assert await lockout.forget(now[0] - timedelta(days=1)) == 7
