"""The runner keeps the embedded server it started alive, and stops promptly whatever it does.

Real processes throughout: the nx-27017 server as the runner starts it, `dialog run` as a user
starts it, and signals sent to both.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from dialog_platform.documents import connect
from dialog_platform.embedded import EmbeddedMongo, EmbeddedSupervisor
from dialog_platform.testing.launch import SingleProcess, run_cli


def server_pid(data_dir: Path) -> int:
    return int(json.loads((data_dir / "nx-27017.json").read_text())["pid"])


async def wait_until(condition: Callable[[], bool], timeout: float) -> float:
    """Seconds until `condition()` held; fails the test after `timeout`."""
    began = time.monotonic()
    while not condition():
        if time.monotonic() - began > timeout:
            pytest.fail(f"not within {timeout}s")
        await asyncio.sleep(0.05)
    return time.monotonic() - began


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedMongo]:
    embedded = EmbeddedMongo(data_dir=tmp_path)
    embedded.start()
    try:
        yield embedded
    finally:
        embedded.kill()
        embedded.stop()


async def test_a_killed_server_is_back_on_its_port_with_its_data(server: EmbeddedMongo) -> None:
    supervisor = EmbeddedSupervisor(server)
    client = connect(server.url)
    appeals = client["dialog_supervision"]["appeals"]
    supervisor.start()
    try:
        await appeals.insert_one({"_id": "before"})
        port, pid = server.port, server_pid(server.data_dir)
        os.kill(pid, signal.SIGKILL)
        await wait_until(lambda: supervisor.restarts == 1, timeout=10)
        assert server.port == port
        assert server_pid(server.data_dir) not in (pid, 0)
        # The client the components hold reconnects by itself: no new client, no restart. A
        # read is retried once on a fresh connection (PyMongo retries no write on a standalone
        # server: a handler's write that met the dead connection is redelivered by the bus).
        assert [d["_id"] async for d in appeals.find()] == ["before"]
        await appeals.insert_one({"_id": "after"})
        assert sorted([d["_id"] async for d in appeals.find()]) == ["after", "before"]
        assert supervisor.alive()
    finally:
        await supervisor.stop()
        await client.close()


async def test_a_hung_server_is_killed_and_started_again(server: EmbeddedMongo) -> None:
    supervisor = EmbeddedSupervisor(server, ping_every_s=0.2, ping_timeout_s=0.5, hang_after_s=1)
    supervisor.start()
    hung = server_pid(server.data_dir)
    try:
        os.kill(hung, signal.SIGSTOP)
        await wait_until(lambda: supervisor.restarts == 1, timeout=15)
        client = connect(server.url)
        try:
            assert (await client.admin.command("ping"))["ok"] == 1
        finally:
            await client.close()
    finally:
        await supervisor.stop()
        with contextlib.suppress(ProcessLookupError):
            os.kill(hung, signal.SIGKILL)


async def test_liveness_fails_while_the_server_cannot_come_back(server: EmbeddedMongo) -> None:
    supervisor = EmbeddedSupervisor(server, backoff_max_s=0.2, give_up_after_s=1.0)
    supervisor.start()
    squatter = socket.socket()
    try:
        server.kill()
        # Something else takes the port the server must come back on.
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", server.port))
        squatter.listen()
        await wait_until(lambda: not supervisor.alive(), timeout=10)
        assert supervisor.restarts == 0
        squatter.close()
        # Once the port is free again, so is the server, and the process is live again.
        await wait_until(supervisor.alive, timeout=10)
        assert supervisor.restarts == 1
    finally:
        squatter.close()
        await supervisor.stop()


@pytest.fixture
def single(tmp_path: Path) -> Iterator[SingleProcess]:
    system = SingleProcess(data_dir=tmp_path)
    system.start()
    try:
        yield system
    finally:
        system.stop()
        with contextlib.suppress(OSError, ValueError, ProcessLookupError):
            os.kill(server_pid(tmp_path), signal.SIGKILL)


def status(url: str) -> int:
    try:
        return httpx.get(url, timeout=2.0).status_code
    except httpx.HTTPError:
        return 0


def test_dialog_run_is_ready_again_soon_after_its_server_is_killed(
    single: SingleProcess,
) -> None:
    single.kiosk_add("before-kill", "Өскемен")
    pid = server_pid(single.data_dir)
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    deadline = killed + 10
    while server_pid(single.data_dir) == pid or status(f"{single.url}/readyz") != 200:
        assert time.monotonic() < deadline, "not ready within 10 s of the server's death"
        time.sleep(0.1)
    print(f"ready again {time.monotonic() - killed:.2f} s after SIGKILL")
    assert status(f"{single.url}/livez") == 200
    # A write and a read through the running system, with the data from before.
    single.kiosk_add("after-kill", "Өскемен")
    listed = run_cli(["kiosk", "list"], single.base_env())
    assert "before-kill" in listed and "after-kill" in listed


@pytest.mark.parametrize("fault", [signal.SIGSTOP, signal.SIGKILL])
def test_sigterm_stops_dialog_run_promptly_whatever_its_server_does(
    single: SingleProcess, fault: signal.Signals
) -> None:
    assert single.process is not None
    os.kill(server_pid(single.data_dir), fault)
    time.sleep(1)
    single.process.popen.send_signal(signal.SIGTERM)
    began = time.monotonic()
    single.process.popen.wait(timeout=30)
    took = time.monotonic() - began
    print(f"exited {took:.2f} s after SIGTERM")
    assert took < 8, single.process.tail()


def test_the_server_never_takes_the_port_dialog_run_is_about_to_serve_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `dialog run`'s own port is free until uvicorn binds it, after the server is spawned; the
    # system once handed that same port to the server and the start failed ("address in use").
    from dialog_platform.embedded import server as embedded_server
    from dialog_platform.net import free_port

    ours = free_port()
    offered = iter([ours, ours])
    monkeypatch.setattr(
        embedded_server, "free_port", lambda host="127.0.0.1": next(offered, None) or free_port()
    )
    mongo = EmbeddedMongo(data_dir=tmp_path, avoid_port=ours)
    mongo.start()
    try:
        assert mongo.port != ours
        with socket.create_server(("127.0.0.1", ours)):
            pass  # still ours to bind
    finally:
        mongo.stop()
