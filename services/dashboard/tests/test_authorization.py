"""An official cannot see, play or answer another official's case through any path.

The routes are enumerated from the running app (every dashboard path with an appeal id), so a
route added later is covered without touching this test.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from .conftest import Browser, Dialog, internal, logged_in, make_appeal

# What a request to each kind of route carries, so only the ownership check can refuse it.
FORM = {
    "text": "Жауап",
    "to_official_id": "deputy-economy",
    "reason": "Құзыретіне жатпайды",
    "legal_deadline": "2099-01-01",
}


async def case_routes(http: httpx.AsyncClient, base: str) -> list[tuple[str, str]]:
    schema = (await http.get(f"{base}/api/openapi.json")).json()
    return sorted(
        (method.upper(), path)
        for path, item in schema["paths"].items()
        if path.startswith("/dashboard/") and "{appeal_id}" in path
        for method in item
    )


async def call(b: Browser, method: str, path: str, appeal_id: str, video: bytes) -> httpx.Response:
    url = path.replace("{appeal_id}", appeal_id)
    if method == "GET":
        return await b.get(url)
    if url.endswith("/video"):
        return await b.client.post(
            url, content=video, headers={"Content-Type": "video/webm", "X-CSRF-Token": b.csrf()}
        )
    if method == "PUT":
        return await b.client.put(url, json={"text": "x"}, headers={"X-CSRF-Token": b.csrf()})
    return await b.post(url, FORM)


async def snapshot(dialog: Dialog, http: httpx.AsyncClient, appeal_id: str) -> dict[str, Any]:
    case = await dialog.case(http, appeal_id)
    answers = await dialog.internal_answers(http, appeal_id)
    media = dialog.runner.data_dir / "media" / "answers" / appeal_id
    return {
        "status": case["status"],
        "official": case["official_id"],
        "control_date": case["control_date"],
        "legal_deadline": case["legal_deadline"],
        "history": case["history"],
        "answers": answers.status_code,
        "audit": len(await dialog.audit(appeal_id=appeal_id)),
        "answer_videos": sorted(p.name for p in media.rglob("*")) if media.exists() else [],
    }


async def test_every_case_route_refuses_another_officials_case(
    dialog: Dialog,
    browser: Callable[[], Browser],
    http: httpx.AsyncClient,
    videos: dict[str, Path],
) -> None:
    owner = dialog.user("housing", "official", "deputy-housing")
    intruder = dialog.user("social", "official", "deputy-social")
    admin = dialog.user("root", "admin")
    appeal = await make_appeal(dialog, http, videos["appeal"])
    video = await asyncio.to_thread(videos["answer"].read_bytes)
    routes = await case_routes(http, dialog.url)
    # The case page, phone, video upload, answer, forward, extend, the fresh video link and
    # the internal answers API at least; if enumeration broke, this says so.
    assert len(routes) >= 8, routes

    before = await snapshot(dialog, http, appeal.appeal_id)
    for login in (intruder, admin):
        b = browser()
        landed = await b.login(login)
        # The start page carries this session's CSRF token, so no refusal below is a CSRF one.
        assert (await b.get(landed.headers["location"])).status_code == 200
        for method, path in routes:
            refused = await call(b, method, path, appeal.appeal_id, video)
            missing = await call(b, method, path, "0" * 32, video)
            where = f"{login} {method} {path}"
            if path.startswith("/dashboard/internal/"):
                # Services only: a browser session without the service token is refused.
                assert refused.status_code == 403, where
                continue
            assert refused.status_code == 404, f"{where}: {refused.status_code}"
            # Indistinguishable from a case that does not exist.
            assert missing.status_code == 404, where
            assert refused.text.replace(appeal.appeal_id, "") == missing.text.replace(
                "0" * 32, ""
            ), where
            assert appeal.registration_number not in refused.text, where
    after = await snapshot(dialog, http, appeal.appeal_id)
    assert after == before

    # The owner, for contrast, is let in by the same route.
    b = await logged_in(browser, owner)
    assert (await b.get(f"/dashboard/cases/{appeal.appeal_id}")).status_code == 200
    r = await http.get(
        f"{dialog.url}/dashboard/internal/answers/{appeal.appeal_id}", headers=internal()
    )
    assert r.status_code == 404  # no answer was slipped in by the intruders
