"""The runner wires services by their component names: a new service is a package with a
component entry point, and a target that calls a service it has no address for does not start."""

from __future__ import annotations

import subprocess
import sys
import types
from collections.abc import Iterator
from importlib.metadata import EntryPoint, EntryPoints
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter

from dialog_platform import runner, targets
from dialog_platform.component import Component, Context, Running
from dialog_platform.settings import CommonSettings
from dialog_platform.testing.launch import dialog_exe

FIXTURE_MODULE = "dialog_echo_fixture"


async def _build_echo(ctx: Context) -> Running:
    router = APIRouter()

    @router.get("/api/v1/echo")
    async def echo() -> dict[str, str | None]:
        return {"routing": ctx.service_url("routing"), "dashboard": ctx.optional_url("dashboard")}

    return Running(routers=[router])


ECHO = Component(
    name="echo",
    description="a service added by a package of its own",
    build=_build_echo,
    needs_db=False,
    calls=("routing",),
    may_call=("dashboard",),
)


@pytest.fixture
def echo_installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """What installing a package with a `dialog.components` entry point `echo` does."""
    module = types.ModuleType(FIXTURE_MODULE)
    module.component = ECHO  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, FIXTURE_MODULE, module)
    ours = EntryPoint(
        name="echo", value=f"{FIXTURE_MODULE}:component", group=targets.ENTRY_POINT_GROUP
    )
    installed = runner.entry_points

    def entry_points(*, group: str) -> EntryPoints:
        return EntryPoints([*installed(group=group), ours])

    # Both readers: the names (targets) and the loading (runner).
    monkeypatch.setattr(runner, "entry_points", entry_points)
    monkeypatch.setattr(targets, "entry_points", entry_points)
    yield


async def test_a_new_service_needs_no_edit_in_the_platform(
    echo_installed: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert "echo" in targets.component_names()
    assert targets.resolve_targets("echo", targets.component_names()) == ["echo"]
    # Its address is derived from its name like every other service's.
    assert runner.url_setting("echo") == "DIALOG_ECHO_URL"
    urls = runner.base_urls(
        targets.component_names(), [], "http://self", {"DIALOG_ECHO_URL": "http://echo:8080/"}
    )
    assert urls == {"echo": "http://echo:8080"}

    monkeypatch.setenv("DIALOG_ROUTING_URL", "http://routing.test:8080")
    monkeypatch.delenv("DIALOG_DASHBOARD_URL", raising=False)
    settings = CommonSettings(data_dir=tmp_path)
    app = runner.build_app(settings, ["echo"], self_url="http://127.0.0.1:9")
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://echo.test") as client,
    ):
        answer = await client.get("/api/v1/echo")
    assert answer.status_code == 200
    assert answer.json() == {"routing": "http://routing.test:8080", "dashboard": None}


def test_a_target_without_the_address_of_a_service_it_calls_does_not_start(
    echo_installed: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DIALOG_ROUTING_URL", raising=False)
    with pytest.raises(ValueError, match=r"echo calls routing: set DIALOG_ROUTING_URL"):
        runner.build_app(CommonSettings(data_dir=tmp_path), ["echo"], self_url="http://x:1")
    monkeypatch.setenv("DIALOG_ROUTING_URL", "routing:8080")
    with pytest.raises(ValueError, match=r"DIALOG_ROUTING_URL is not an http\(s\) URL"):
        runner.build_app(CommonSettings(data_dir=tmp_path), ["echo"], self_url="http://x:1")


def test_dialog_run_names_every_missing_address_in_one_message(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "DIALOG_DATA_DIR": str(tmp_path), "HOME": str(tmp_path)}
    result = subprocess.run(
        [dialog_exe(), "run", "--target", "kiosk-gateway", "--port", "9"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "kiosk-gateway calls routing: set DIALOG_ROUTING_URL" in result.stderr
    assert "kiosk-gateway calls media-store: set DIALOG_MEDIA_STORE_URL" in result.stderr
    # Refused before anything was opened: no embedded database was started.
    assert list(tmp_path.iterdir()) == [] and "Traceback" not in result.stderr
