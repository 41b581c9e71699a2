"""Bad input gets a clear error and changes nothing: no appeal and no object is left behind."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import MAX_VIDEO_BYTES, System
from .test_core_path import appeal_body


async def new_appeal(
    http: httpx.AsyncClient, system: System, auth: dict[str, str]
) -> dict[str, Any]:
    created = await http.post(
        f"{system.gateway_url}/api/v1/appeals", json=appeal_body(), headers=auth
    )
    assert created.status_code == 201, created.text
    result: dict[str, Any] = created.json()
    return result


async def assert_nothing_left(system: System, kiosk_id: str, appeal_id: str) -> None:
    appeals = await system.appeals(kiosk_id)
    assert all(a["status"] == "draft" and a.get("video") is None for a in appeals)
    assert system.stored_objects(f"appeals/{appeal_id}") == []
    assert system.incomplete_uploads(f"appeals/{appeal_id}") == []


async def test_tokens(system: System, http: httpx.AsyncClient) -> None:
    gw = system.gateway_url
    none = await http.post(f"{gw}/api/v1/appeals", json=appeal_body())
    assert none.status_code == 401
    bogus = await http.get(f"{gw}/api/v1/officials", headers={"Authorization": "Bearer nope"})
    assert bogus.status_code == 401

    kiosk_id, token = system.kiosk_add()
    auth = {"Authorization": f"Bearer {token}"}
    assert (await http.get(f"{gw}/api/v1/officials", headers=auth)).status_code == 200
    from dialog_platform.testing.launch import run_cli

    run_cli(["kiosk", "revoke", kiosk_id], system.runner.cli_env())
    revoked = await http.post(f"{gw}/api/v1/appeals", json=appeal_body(), headers=auth)
    assert revoked.status_code == 401
    assert revoked.json()["error"]["code"] == "revoked_token"
    assert await system.appeals(kiosk_id) == []


@pytest.fixture(scope="module")
def refused_kiosk(system: System) -> tuple[str, str]:
    """One booth for all the refused bodies: nothing may be created on it, whichever is sent.

    A booth each would cost the broker six queues apiece (its receipts, their retries and dead
    letters) for nothing a refusal could touch.
    """
    return system.kiosk_add()


@pytest.mark.parametrize(
    ("override", "field", "code"),
    [
        ({"official_id": "nobody"}, "official_id", "unknown_official"),
        ({"phone": "+7 495 123 45 67"}, "phone", "phone_not_kz"),
        ({"phone": "12"}, "phone", "phone_invalid"),
        ({"iin": "900101400014"}, "iin", "iin_invalid"),
        ({"consent": False}, "consent", "consent_required"),
        ({"language": "en"}, "language", "invalid"),
        ({"category": 5}, "category", "invalid"),
    ],
)
async def test_bad_fields_are_named_and_create_nothing(
    system: System,
    http: httpx.AsyncClient,
    refused_kiosk: tuple[str, str],
    override: dict[str, Any],
    field: str,
    code: str,
) -> None:
    kiosk_id, token = refused_kiosk
    response = await http.post(
        f"{system.gateway_url}/api/v1/appeals",
        json=appeal_body(**override),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["field"] == field
    assert error["code"] == code
    assert error["message"]["kk"] and error["message"]["ru"]
    assert await system.appeals(kiosk_id) == []


async def test_non_video_is_415(system: System, http: httpx.AsyncClient) -> None:
    kiosk_id, token = system.kiosk_add()
    auth = {"Authorization": f"Bearer {token}"}
    appeal = await new_appeal(http, system, auth)
    response = await http.put(
        f"{system.gateway_url}{appeal['upload_url']}",
        content=b"%PDF-1.7 not a video" * 1000,
        headers={**auth, "Content-Type": "video/webm"},
    )
    assert response.status_code == 415, response.text
    await assert_nothing_left(system, kiosk_id, appeal["appeal_id"])


async def test_video_over_240_seconds_is_422(
    system: System, http: httpx.AsyncClient, videos: dict[str, Path]
) -> None:
    kiosk_id, token = system.kiosk_add()
    auth = {"Authorization": f"Bearer {token}"}
    appeal = await new_appeal(http, system, auth)
    response = await http.put(
        f"{system.gateway_url}{appeal['upload_url']}",
        content=videos["long"].read_bytes(),
        headers={**auth, "Content-Type": "video/webm"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "video_too_long"
    await assert_nothing_left(system, kiosk_id, appeal["appeal_id"])


async def test_declared_length_over_limit_is_413(
    system: System, http: httpx.AsyncClient, videos: dict[str, Path]
) -> None:
    kiosk_id, token = system.kiosk_add()
    auth = {"Authorization": f"Bearer {token}"}
    appeal = await new_appeal(http, system, auth)
    body = videos["big"].read_bytes()
    assert len(body) > MAX_VIDEO_BYTES
    response = await http.put(
        f"{system.gateway_url}{appeal['upload_url']}",
        content=body,
        headers={**auth, "Content-Type": "video/webm"},
    )
    assert response.status_code == 413
    await assert_nothing_left(system, kiosk_id, appeal["appeal_id"])


def _unfinished_chunked_upload(url: str, path: str, token: str, body: bytes) -> bytes:
    """Send `body` chunked (no length, like a live recording) but never end the body.

    Returns what the server answered within 30 s. A server that waits for the whole body
    before judging its size never answers, because the body never ends.
    """
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(
            f"PUT {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: video/webm\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        step = 64 * 1024
        try:
            for i in range(0, len(body), step):
                part = body[i : i + step]
                sock.sendall(f"{len(part):x}\r\n".encode() + part + b"\r\n")
        except OSError:
            pass  # the server answered and closed before taking it all: also fine
        sock.settimeout(30)
        response = bytearray()
        try:
            while b"\r\n\r\n" not in response and (chunk := sock.recv(65536)):
                response.extend(chunk)
        except TimeoutError:
            pass
        return bytes(response)


async def test_streamed_body_over_limit_is_stopped_at_the_limit(
    system: System, http: httpx.AsyncClient, videos: dict[str, Path]
) -> None:
    kiosk_id, token = system.kiosk_add()
    appeal = await new_appeal(http, system, {"Authorization": f"Bearer {token}"})
    # A real recording that runs just past the limit and then stalls: the 413 has to come
    # from counting what arrived, not from a length header or the end of the body.
    body = videos["big"].read_bytes()
    body = (body + bytes(MAX_VIDEO_BYTES))[: MAX_VIDEO_BYTES + 256 * 1024]
    response = await asyncio.to_thread(
        _unfinished_chunked_upload, system.gateway_url, appeal["upload_url"], token, body
    )
    assert response.startswith(b"HTTP/1.1 413"), response[:200]
    await assert_nothing_left(system, kiosk_id, appeal["appeal_id"])


async def test_submit_before_upload_is_409(system: System, http: httpx.AsyncClient) -> None:
    kiosk_id, token = system.kiosk_add()
    auth = {"Authorization": f"Bearer {token}"}
    appeal = await new_appeal(http, system, auth)
    response = await http.post(f"{system.gateway_url}{appeal['submit_url']}", headers=auth)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "video_missing"
    appeals = await system.appeals(kiosk_id)
    assert [a.get("registration_number") for a in appeals] == [None]


async def test_another_kiosks_appeal_is_not_found(system: System, http: httpx.AsyncClient) -> None:
    _, token_a = system.kiosk_add()
    _, token_b = system.kiosk_add()
    appeal = await new_appeal(http, system, {"Authorization": f"Bearer {token_a}"})
    response = await http.post(
        f"{system.gateway_url}{appeal['submit_url']}",
        headers={"Authorization": f"Bearer {token_b}"},
    )
    assert response.status_code == 404


async def test_wrong_codes_lock_the_number(
    system: System, http: httpx.AsyncClient, videos: dict[str, Path]
) -> None:
    from kiosk_gateway.registration import format_number

    _, token = system.kiosk_add()
    auth = {"Authorization": f"Bearer {token}"}
    appeal = await new_appeal(http, system, auth)
    put = await http.put(
        f"{system.gateway_url}{appeal['upload_url']}",
        content=videos["short"].read_bytes(),
        headers={**auth, "Content-Type": "video/webm"},
    )
    assert put.status_code == 201, put.text
    submitted = await http.post(f"{system.gateway_url}{appeal['submit_url']}", headers=auth)
    assert submitted.status_code == 201, submitted.text
    number = submitted.json()["registration_number"]
    url = f"{system.gateway_url}/api/v1/answers/lookup"
    body = {"registration_number": number, "access_code": "00000000"}
    for _ in range(5):
        assert (await http.post(url, json=body)).status_code == 404
    locked = await http.post(url, json=body)
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "lookup_locked"
    assert "Retry-After" in locked.headers
    # A number not issued yet is answered at once and locks nothing: a script cannot lock the
    # numbers of tomorrow's citizens.
    unissued = {"registration_number": format_number(2026, 900_001), "access_code": "12345678"}
    for _ in range(7):
        assert (await http.post(url, json=unissued)).status_code == 404


async def test_mistyped_number_is_caught_by_its_check_digit(
    system: System, http: httpx.AsyncClient
) -> None:
    response = await http.post(
        f"{system.gateway_url}/api/v1/answers/lookup",
        json={"registration_number": "2026-000001-0", "access_code": "12345678"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "registration_number"


def test_healthcheck_and_targets(system: System) -> None:
    from dialog_platform.testing.launch import run_cli

    out = run_cli(["healthcheck", "--url", f"{system.gateway_url}/readyz"], system.runner.cli_env())
    assert '"status":"ready"' in out
    targets = run_cli(["list-targets"], {}).split()
    assert {"all", "kiosk-gateway", "media-store", "routing", "printer-agent"} <= set(targets)
