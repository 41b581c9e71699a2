"""Odd input to any dashboard route gets a clear 4xx, never a server error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from .conftest import Browser, Dialog, logged_in, make_appeal

ODD_BODIES: list[dict[str, object]] = [
    {"content": b"\xff\xfe not a form", "headers": {"Content-Type": "multipart/form-data"}},
    {"content": b'{"text": 1}', "headers": {"Content-Type": "application/json"}},
    {"data": {"text": "x" * 30_000, "corrects": "../../etc", "video_key": "answers/../x"}},
    {"data": {"legal_deadline": "2026-13-45", "control_date": "tomorrow", "reason": " "}},
    {"data": {"to_official_id": "../akim", "reason": "\x00"}},
    {"data": {"active": "maybe", "deputy_id": "", "from": "x", "to": "y", "id": "ÄÖ"}},
]


async def test_no_route_answers_a_server_error(
    dialog: Dialog,
    browser: Callable[[], Browser],
    http: httpx.AsyncClient,
    videos: dict[str, Path],
) -> None:
    appeal = await make_appeal(dialog, http, videos["appeal"])
    schema = (await http.get(f"{dialog.url}/api/openapi.json")).json()
    routes = [
        (method.upper(), path)
        for path, item in schema["paths"].items()
        if path.startswith("/dashboard/")
        for method in item
        # Logging out would end the session the rest of the loop needs.
        if path not in ("/dashboard/logout", "/dashboard/login") or method == "get"
    ]
    assert len(routes) > 25
    sessions = {
        "official": await logged_in(browser, dialog.user("housing", "official", "deputy-housing")),
        "controller": await logged_in(browser, dialog.user("control-office", "controller")),
        "admin": await logged_in(browser, dialog.user("root", "admin")),
    }
    for who, b in sessions.items():
        await b.get("/dashboard/")
        landing = {
            "official": "/dashboard/inbox",
            "controller": "/dashboard/control",
            "admin": "/dashboard/admin/officials",
        }[who]
        await b.get(landing)
        csrf = b.csrf()
        for method, path in routes:
            url = (
                path.replace("{appeal_id}", appeal.appeal_id)
                .replace("{official_id}", "akim")
                .replace("{kiosk_id}", "no-such-kiosk")
                .replace("{login}", "nobody")
                .replace("{lang}", "en")
                .replace("{name}", "..%2Fcomponent.py")
            )
            where = f"{who} {method} {path}"
            if method == "GET":
                for query in (
                    {"status": "x", "sort": "y", "after": "z" * 600, "from": "-1"},
                    {"to": "2026-02-30", "before": "yesterday", "action": "drop"},
                ):
                    r = await b.client.get(url, params=query)
                    assert r.status_code < 500, f"{where} {query}: {r.status_code} {r.text[:300]}"
                continue
            for body in ODD_BODIES:
                headers = {"X-CSRF-Token": csrf, **body.get("headers", {})}  # type: ignore[dict-item]
                kwargs = {k: v for k, v in body.items() if k != "headers"}
                r = await b.client.post(url, headers=headers, **kwargs)  # type: ignore[arg-type]
                assert r.status_code < 500, f"{where} {body}: {r.status_code} {r.text[:300]}"
                if r.status_code == 422 and "json" in r.headers.get("content-type", ""):
                    message = r.json()["error"]["message"]
                    assert message["kk"] and message["ru"]
        # Still logged in: every odd request above was answered with the session intact.
        assert (await b.get(landing)).status_code == 200, who
    # The case is as it was: nothing above was a valid action.
    case = await dialog.case(http, appeal.appeal_id)
    assert case["official_id"] == "deputy-housing"
    assert (await dialog.internal_answers(http, appeal.appeal_id)).status_code == 404
    akim = (await http.get(f"{dialog.url}/api/v1/directory/officials/akim")).json()
    assert akim["active"] is True
