"""What an anonymous request cannot do to a running system, in both modes: make a process hold
a large body or header, get a 5xx for an odd media key; and what `OPTIONS` tells."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from urllib.parse import quote, urlsplit

import httpx
import psutil

from kiosk_gateway.registration import format_number

from .conftest import System

MB = 1024 * 1024
# Body and head limits are tens of KB; a process that read 10 MB whole would grow by 10 MB+.
# A 10 MB body or header held in memory grows the process by 10 MB at least; the margin below
# that is for what a one-process system does meanwhile (4.3 MB was seen under a loaded CI run).
MAX_GROWTH = 6 * MB


def rss(system: System, service: str) -> int:
    runner = system.runner
    process = runner.process if hasattr(runner, "process") else runner.processes[service]
    assert process is not None
    return int(psutil.Process(process.popen.pid).memory_info().rss)


async def settled(system: System, service: str, *, within_s: float = 15.0) -> None:
    last = rss(system, service)
    for _ in range(int(within_s)):
        await asyncio.sleep(1.0)
        now = rss(system, service)
        if abs(now - last) < MB:
            return
        last = now


async def ten_megabytes() -> AsyncIterator[bytes]:
    # Streamed without a Content-Length, so the limit has to be counted as the body arrives.
    yield b'{"registration_number": "'
    for _ in range(160):
        yield b"7" * 65536
    yield b'"}'


async def test_a_ten_megabyte_body_is_refused_while_it_arrives(
    system: System, http: httpx.AsyncClient
) -> None:
    _, token = system.kiosk_add()
    booth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    targets = [
        ("kiosk-gateway", f"{system.gateway_url}/api/v1/answers/lookup", {}),
        ("kiosk-gateway", f"{system.gateway_url}/api/v1/appeals", booth),
        ("dashboard", f"{system.dashboard_url}/dashboard/login", form),
    ]
    for _, url, headers in targets:  # warm: the first request of a route imports and caches
        await http.post(url, content=b"{}", headers=headers)
    # A freshly started system is still busy in the background (first syncs, a library loaded
    # off the event loop): the baseline is taken once its memory has stopped moving.
    for service in {service for service, _, _ in targets}:
        await settled(system, service)
    before = {service: rss(system, service) for service, _, _ in targets}
    for service, url, headers in targets:
        for _ in range(3):
            streamed = await http.post(url, content=ten_megabytes(), headers=headers)
            assert streamed.status_code == 413, (url, streamed.text)
            error = streamed.json()["error"]
            assert error["code"] == "body_too_large" and error["message"]["kk"], url
            # Declared up front: refused before a byte of it is read.
            declared = await http.post(url, content=b"7" * (10 * MB), headers=headers)
            assert declared.status_code == 413, url
            assert declared.json()["error"]["message"]["ru"] == error["message"]["ru"], url
        grown = rss(system, service) - before[service]
        assert grown < MAX_GROWTH, f"{service} grew by {grown / MB:.1f} MB on {url}"
    # Still serving, and ordinary bodies still go through.
    miss = await http.post(
        targets[0][1],
        json={"registration_number": format_number(2026, 999_999), "access_code": "12345678"},
    )
    assert miss.status_code == 404, miss.text


def raw_request(url: str, head: bytes) -> bytes:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        # The server may close before reading the rest: its answer is what counts.
        with contextlib.suppress(OSError):
            sock.sendall(head)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


async def test_a_ten_megabyte_header_is_refused(system: System, http: httpx.AsyncClient) -> None:
    before = rss(system, "kiosk-gateway")
    host = urlsplit(system.gateway_url).netloc.encode()
    head = (
        b"GET /readyz HTTP/1.1\r\nHost: " + host + b"\r\nX-Big: " + b"a" * (10 * MB) + b"\r\n\r\n"
    )
    answer = raw_request(system.gateway_url, head)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    many = b"".join(b"X-H%d: 1\r\n" % n for n in range(300))
    answer = raw_request(
        system.gateway_url, b"GET /readyz HTTP/1.1\r\nHost: " + host + b"\r\n" + many + b"\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    assert rss(system, "kiosk-gateway") - before < MAX_GROWTH
    assert (await http.get(f"{system.gateway_url}/readyz")).status_code == 200


async def test_options_and_405_name_every_method_of_a_path(
    system: System, http: httpx.AsyncClient
) -> None:
    url = f"{system.routing_url}/api/v1/directory/officials"
    options = await http.options(url)
    assert options.status_code == 204
    assert set(options.headers["allow"].split(", ")) == {"GET", "POST", "OPTIONS"}
    refused = await http.put(url)
    assert refused.status_code == 405
    assert set(refused.headers["allow"].split(", ")) == {"GET", "POST", "OPTIONS"}
    assert (await http.options(f"{system.routing_url}/no/such/path")).status_code == 404


ODD_KEYS = [
    "answers/a\x01b.webm",
    "answers/a\\b.webm",
    "answers/" + "a" * 256 + ".webm",
    "answers/.hidden.webm",
    "answers//x.webm",
    "answers/\x7f.webm",
]


async def test_odd_media_keys_are_refused_by_every_method(
    system: System, http: httpx.AsyncClient
) -> None:
    internal = system.internal_headers()
    base = f"{system.media_store_url}/api/v1/media"
    for key in ODD_KEYS:
        path = quote(key, safe="/")
        calls = [
            http.get(f"{base}/objects/{path}/meta", headers=internal),
            http.get(f"{base}/objects/{path}/url", headers=internal),
            http.put(f"{base}/objects/{path}", content=b"\x1a\x45\xdf\xa3", headers=internal),
            http.delete(f"{base}/objects/{path}", headers=internal),
            http.get(f"{base}/play/{path}", params={"expires": "1", "sig": "x"}),
        ]
        for call in calls:
            answer = await call
            assert 400 <= answer.status_code < 500, (key, answer.request.method, answer.text)
            if answer.request.url.path.startswith("/api/v1/media/objects/"):
                assert answer.status_code == 422, (key, answer.request.method)
                assert answer.json()["error"]["code"] == "invalid_key"
