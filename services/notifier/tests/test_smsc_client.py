"""The SMSC client against the local server that follows SMSC's HTTP protocol."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from dialog_platform.testing.smsc import LOGIN, PASSWORD, FakeSmscServer
from notifier.smsc import PermanentSmsError, SmscClient, TransientSmsError


@pytest.fixture
def smsc_server() -> Iterator[FakeSmscServer]:
    with FakeSmscServer() as server:
        yield server


@pytest.fixture
async def client(smsc_server: FakeSmscServer) -> AsyncIterator[SmscClient]:
    async with httpx.AsyncClient() as http:
        yield SmscClient(
            http=http,
            base_url=smsc_server.url,
            login=LOGIN,
            password=PASSWORD,
            apikey="",
            sender="Dialog",
        )


async def test_send_posts_the_documented_fields(
    client: SmscClient, smsc_server: FakeSmscServer
) -> None:
    result = await client.send("+77012345678", "Өтініш 2026-000001-5", message_id="abc123")
    assert result.smsc_id == "abc123"
    [sent] = smsc_server.state.messages
    assert sent.phone == "+77012345678" and sent.text == "Өтініш 2026-000001-5"
    assert sent.form["fmt"] == "3" and sent.form["charset"] == "utf-8"
    assert sent.form["sender"] == "Dialog"
    # Credentials travel in the POST body, never in the URL.
    assert sent.form["psw"] == PASSWORD
    assert all("psw" not in r for r in smsc_server.state.requests)


async def test_status_of_our_own_id(client: SmscClient) -> None:
    assert await client.status("+77012345678", message_id="nope") == -3
    await client.send("+77012345678", "x", message_id="m1")
    assert await client.status("+77012345678", message_id="m1") == 0


async def test_error_codes_are_sorted(client: SmscClient, smsc_server: FakeSmscServer) -> None:
    smsc_server.state.permanent_by_phone["77010000000"] = 8
    with pytest.raises(PermanentSmsError, match="cannot be delivered"):
        await client.send("+77010000000", "x", message_id="m2")
    smsc_server.state.fail_next(200, {"error": "duplicate request", "error_code": 9})
    with pytest.raises(TransientSmsError, match="too many"):
        await client.send("+77012345678", "x", message_id="m3")
    smsc_server.state.fail_next(500)
    with pytest.raises(TransientSmsError, match="500"):
        await client.send("+77012345678", "x", message_id="m4")
    assert smsc_server.state.messages == []


async def test_wrong_password_is_permanent(smsc_server: FakeSmscServer) -> None:
    async with httpx.AsyncClient() as http:
        bad = SmscClient(
            http=http, base_url=smsc_server.url, login=LOGIN, password="wrong", apikey="", sender=""
        )
        with pytest.raises(PermanentSmsError, match="login or password"):
            await bad.send("+77012345678", "x", message_id="m5")


async def test_unreachable_gateway_is_transient() -> None:
    from dialog_platform.net import free_port

    async with httpx.AsyncClient() as http:
        gone = SmscClient(
            http=http,
            base_url=f"http://127.0.0.1:{free_port()}",
            login=LOGIN,
            password=PASSWORD,
            apikey="",
            sender="",
        )
        with pytest.raises(TransientSmsError, match="unreachable"):
            await gone.send("+77012345678", "x", message_id="m6")
        with pytest.raises(TransientSmsError):
            await gone.ping()
