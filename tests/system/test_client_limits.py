"""Per-client limits that count citizens, not the proxy in front, and lockouts that slow a
script down without locking the citizen out.

One `dialog run` trusts one proxy: Debian's nginx, started here, which connects from
127.0.0.2. Citizens reach it from addresses of their own on the loopback network (127.0.0.3, …);
a client that connects directly from 127.0.0.1 is nobody's proxy.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from dialog_platform.net import free_port
from dialog_platform.testing.booth_api import file_appeal
from dialog_platform.testing.launch import SingleProcess
from dialog_platform.testing.webm import make_webm
from kiosk_gateway.registration import format_number

PROXY_ADDRESS = "127.0.0.2"
LOOKUPS_PER_MINUTE = 3
WRONG_CODES_PER_CLIENT = 2
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
NGINX_CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://127.0.0.1:{upstream};
      proxy_bind {proxy};
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }}
  }}
}}
"""
APPEAL = {
    "official_id": "deputy-housing",
    "phone": "+7 701 234 56 78",
    "language": "ru",
    "category": "question",
    "consent": True,
    "full_name": "Айгүл Серікқызы Нұрланова",
    "iin": "900101400013",
}


@dataclass
class Site:
    runner: SingleProcess
    proxy_url: str

    @property
    def url(self) -> str:
        return self.runner.url


def start_nginx(directory: Path, upstream: int) -> tuple[subprocess.Popen[bytes], str]:
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = directory / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(dir=directory, port=port, upstream=upstream, proxy=PROXY_ADDRESS)
    )
    nginx = subprocess.Popen(
        [NGINX, "-c", str(conf), "-p", str(directory), "-e", str(directory / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return nginx, url
        except httpx.HTTPError:
            pass
        if nginx.poll() is not None or time.monotonic() > deadline:
            nginx.kill()
            log = (directory / "error.log").read_text(errors="replace")
            raise RuntimeError(f"nginx did not come up:\n{log}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    data_dir = tmp_path_factory.mktemp("client-limits")
    runner = SingleProcess(
        data_dir=data_dir,
        env={
            "DIALOG_TRUSTED_PROXIES": f"{PROXY_ADDRESS}/32",
            "DIALOG_KIOSK_GATEWAY_LOOKUP_PER_IP_PER_MINUTE": str(LOOKUPS_PER_MINUTE),
            "DIALOG_KIOSK_GATEWAY_LOOKUP_PER_KIOSK_PER_MINUTE": str(LOOKUPS_PER_MINUTE),
            "DIALOG_KIOSK_GATEWAY_LOOKUP_FAILURES_PER_NUMBER": str(WRONG_CODES_PER_CLIENT),
            # Short waits: the test shows they grow, not how long they get.
            "DIALOG_KIOSK_GATEWAY_LOOKUP_MAX_DELAY_S": "1",
        },
    )
    runner.start()
    nginx: subprocess.Popen[bytes] | None = None
    try:
        assert runner.process is not None
        upstream = int(runner.url.rsplit(":", 1)[1])
        nginx, proxy_url = start_nginx(data_dir / "nginx", upstream)
        yield Site(runner=runner, proxy_url=proxy_url)
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(timeout=10)
        runner.stop()


@pytest.fixture
async def clients() -> AsyncIterator[Any]:
    """An HTTP client connecting from a given loopback address."""
    opened: list[httpx.AsyncClient] = []

    def client(address: str) -> httpx.AsyncClient:
        transport = httpx.AsyncHTTPTransport(local_address=address)
        http = httpx.AsyncClient(transport=transport, timeout=60)
        opened.append(http)
        return http

    yield client
    for http in opened:
        await http.aclose()


def never_issued(n: int) -> dict[str, str]:
    # Valid check digit, far beyond what the test issues: answered at once, counted by nothing
    # but the request budgets.
    return {"registration_number": format_number(2026, 900_000 + n), "access_code": "12345678"}


async def lookup(http: httpx.AsyncClient, base: str, body: dict[str, str], **kw: Any) -> int:
    return (await http.post(f"{base}/api/v1/answers/lookup", json=body, **kw)).status_code


async def test_two_citizens_behind_one_proxy_have_budgets_of_their_own(
    site: Site, clients: Any
) -> None:
    first, second = clients("127.0.0.3"), clients("127.0.0.4")
    for n in range(LOOKUPS_PER_MINUTE):
        assert await lookup(first, site.proxy_url, never_issued(n)) == 404
    assert await lookup(first, site.proxy_url, never_issued(9)) == 429
    # The second citizen, through the same proxy, is not held back by the first.
    assert await lookup(second, site.proxy_url, never_issued(10)) == 404
    # A forged header gets the first citizen no fresh budget: the proxy appends the real
    # address, and only the proxy's entry is believed.
    forged = {"X-Forwarded-For": "198.51.100.7"}
    assert await lookup(first, site.proxy_url, never_issued(11), headers=forged) == 429


async def test_a_forged_header_from_a_direct_client_is_ignored(site: Site, clients: Any) -> None:
    direct = clients("127.0.0.5")
    for n in range(LOOKUPS_PER_MINUTE):
        forged = {"X-Forwarded-For": f"198.51.100.{n}"}
        assert await lookup(direct, site.url, never_issued(20 + n), headers=forged) == 404
    forged = {"X-Forwarded-For": "198.51.100.99"}
    assert await lookup(direct, site.url, never_issued(29), headers=forged) == 429


async def test_a_booths_lookups_are_limited_per_kiosk_not_per_address(
    site: Site, clients: Any
) -> None:
    # Two booths of one center behind one address (its NAT).
    center = clients("127.0.0.6")
    one = {"Authorization": f"Bearer {site.runner.kiosk_add('booth-one', 'ЦОН №1')}"}
    two = {"Authorization": f"Bearer {site.runner.kiosk_add('booth-two', 'ЦОН №1')}"}
    for n in range(LOOKUPS_PER_MINUTE):
        assert await lookup(center, site.url, never_issued(30 + n), headers=one) == 404
    assert await lookup(center, site.url, never_issued(39), headers=one) == 429
    assert await lookup(center, site.url, never_issued(40), headers=two) == 404
    # A token that is not a booth's spends the address's budget, which is still untouched.
    fake = {"Authorization": "Bearer not-a-booth"}
    assert await lookup(center, site.url, never_issued(41), headers=fake) == 404


async def registered(site: Site, http: httpx.AsyncClient, video: bytes) -> dict[str, Any]:
    token = site.runner.kiosk_add(f"booth-{uuid.uuid4().hex[:8]}", "ЦОН №2")
    return await file_appeal(http, site.url, token, APPEAL, video)


async def test_a_script_guessing_codes_cannot_lock_the_citizen_out(
    site: Site, clients: Any, tmp_path: Path
) -> None:
    video = make_webm(tmp_path / "a.webm", seconds=2).read_bytes()
    receipt = await registered(site, clients("127.0.0.1"), video)
    number, code = receipt["registration_number"], receipt["access_code"]
    script, citizen = clients("127.0.0.10"), clients("127.0.0.11")
    wrong = str((int(code) + 1) % 10**8).zfill(8)
    guess = {"registration_number": number, "access_code": wrong}
    answers = [await lookup(script, site.url, guess) for _ in range(WRONG_CODES_PER_CLIENT + 1)]
    assert answers == [404] * WRONG_CODES_PER_CLIENT + [429]
    # More guesses from more addresses, each until it is locked out of the number.
    for n in range(3):
        bot = clients(f"127.0.0.{20 + n}")
        for _ in range(WRONG_CODES_PER_CLIENT):
            assert await lookup(bot, site.url, guess) == 404
    # The number is being guessed at: the citizen's right code waits a moment, and works.
    started = time.monotonic()
    found = await citizen.post(
        f"{site.url}/api/v1/answers/lookup",
        json={"registration_number": number, "access_code": code},
    )
    assert found.status_code == 200, found.text
    assert found.json()["registration_number"] == number
    assert time.monotonic() - started >= 0.9  # slowed, not shut (max delay 1 s here)


async def test_the_script_itself_is_locked_out_of_the_number(
    site: Site, clients: Any, tmp_path: Path
) -> None:
    video = make_webm(tmp_path / "b.webm", seconds=2).read_bytes()
    receipt = await registered(site, clients("127.0.0.1"), video)
    number, code = receipt["registration_number"], receipt["access_code"]
    wrong = str((int(code) + 1) % 10**8).zfill(8)
    script, citizen = clients("127.0.0.30"), clients("127.0.0.31")
    url = f"{site.proxy_url}/api/v1/answers/lookup"
    guess = {"registration_number": number, "access_code": wrong}
    first = await script.post(url, json=guess)
    assert first.status_code == 404 and "1" in first.json()["error"]["message"]["ru"]
    last = await script.post(url, json=guess)
    assert last.status_code == 404  # and it says that this was the last try
    assert last.json()["error"]["message"]["ru"] != first.json()["error"]["message"]["ru"]
    # Even the right code is refused to this client now; the lock is the client's alone.
    locked = await script.post(url, json={"registration_number": number, "access_code": code})
    assert locked.status_code == 429, locked.text
    assert locked.json()["error"]["code"] == "lookup_locked"
    assert int(locked.headers["retry-after"]) > 800
    found = await citizen.post(url, json={"registration_number": number, "access_code": code})
    assert found.status_code == 200, found.text


async def test_a_never_issued_number_locks_nothing(site: Site, clients: Any) -> None:
    client = clients("127.0.0.40")
    body = never_issued(50)
    for _ in range(LOOKUPS_PER_MINUTE):
        answer = await client.post(f"{site.url}/api/v1/answers/lookup", json=body)
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "lookup_not_found"
    # Nobody else is locked out of it either, however often it was tried.
    other = clients("127.0.0.41")
    assert await lookup(other, site.url, body) == 404
