"""`dialog` starts light: a healthcheck imports no service, a one-target run only its own.

The image probes with `dialog healthcheck` every 10 s, and a restarted pod is unavailable for as
long as `dialog run --target X` takes to start, so both must not import all six services.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from dialog_platform.net import free_port
from dialog_platform.targets import component_names
from dialog_platform.testing.launch import TEST_SECRET, SingleProcess, dialog_exe

SERVICE_PACKAGES = {
    "dashboard",
    "kiosk_gateway",
    "media_store",
    "notifier",
    "printer_agent",
    "routing",
}


def imported_packages(importtime_log: str) -> set[str]:
    """Top-level packages named in `python -X importtime` output."""
    found = set()
    for line in importtime_log.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)$", line)
        if match:
            found.add(match.group(1).split(".")[0])
    return found


def dialog_with_importtime(
    args: list[str], env: dict[str, str], log: Path
) -> subprocess.Popen[bytes]:
    # To a file: the import log outgrows a pipe's buffer before the server is up.
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-X", "importtime", "-m", "dialog_platform.cli", *args],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def test_healthcheck_imports_no_service_nor_the_web_stack(tmp_path: Path) -> None:
    # Port 9 (discard) has no listener: the probe answers "unhealthy" at once.
    for args, env in (
        (["healthcheck", "--url", "http://127.0.0.1:9/readyz"], {}),
        (["healthcheck"], {"DIALOG_PORT": "9"}),
    ):
        log = tmp_path / "healthcheck.log"
        proc = dialog_with_importtime(args, env, log)
        proc.wait(timeout=60)
        stderr = log.read_text()
        assert proc.returncode == 1, stderr[-2000:]
        assert "unhealthy" in stderr
        imported = imported_packages(stderr)
        assert not imported & SERVICE_PACKAGES, imported & SERVICE_PACKAGES
        heavy = {"fastapi", "starlette", "uvicorn", "pymongo", "pydantic"}
        assert not imported & heavy, imported & heavy


def test_run_with_one_target_imports_only_that_service(tmp_path: Path) -> None:
    port = free_port()
    env = {"DIALOG_DATA_DIR": str(tmp_path), "DIALOG_SECRET_KEY": TEST_SECRET}
    log = tmp_path / "run.log"
    proc = dialog_with_importtime(["run", "--target", "routing", "--port", str(port)], env, log)
    try:
        ready = False
        for _ in range(300):
            if proc.poll() is not None:
                break
            with contextlib.suppress(httpx.HTTPError):
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
            if ready:
                break
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    stderr = log.read_text()
    assert ready, stderr[-3000:]
    imported = imported_packages(stderr)
    assert "routing" in imported
    assert not imported & (SERVICE_PACKAGES - {"routing"}), imported & SERVICE_PACKAGES
    # Routing stores no media, and this run has no broker: neither client library is loaded.
    assert not imported & {"minio", "aio_pika", "aiormq"}, imported & {"minio", "aio_pika"}


def test_component_commands_are_still_known() -> None:
    result = subprocess.run(
        [dialog_exe(), "kiosk", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "add" in result.stdout


def test_list_targets_names_every_installed_component() -> None:
    result = subprocess.run(
        [dialog_exe(), "list-targets"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    listed = [line.split("\t")[0] for line in result.stdout.splitlines()]
    assert listed == ["all", *component_names()]
    assert set(component_names()) >= {"routing", "kiosk-gateway", "printer-agent"}


def test_a_one_process_start_that_fails_leaves_no_embedded_server_behind(tmp_path: Path) -> None:
    # The embedded server is spawned before the components load; a bad component setting then
    # stops the start, and the server (in a session of its own) must go with it.
    env = {
        **os.environ,
        "DIALOG_DATA_DIR": str(tmp_path),
        "DIALOG_SECRET_KEY": TEST_SECRET,
        "DIALOG_NOTIFIER_QUIET_START": "half past nine",
    }
    result = subprocess.run(
        [dialog_exe(), "run", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode != 0
    assert "quiet_start" in result.stderr, result.stderr[-2000:]
    assert (tmp_path / "nx-27017.log").exists()  # it had been started
    left = [
        p.info["pid"]
        for p in psutil.process_iter(["pid", "cmdline"])
        if "dialog_platform.embedded" in " ".join(p.info["cmdline"] or [])
        and str(tmp_path) in " ".join(p.info["cmdline"] or [])
    ]
    assert left == []


# The copies `dialog run` keeps of what other components own, each asked for over its own API.
COPIES = {"kiosk-gateway-directory", "kiosk-gateway-reference", "notifier-directory"}


def log_records(log: Path, offset: int) -> list[dict[str, object]]:
    records = []
    for line in log.read_bytes()[offset:].decode(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if isinstance(record, dict):
                records.append(record)
    return records


def test_a_one_process_start_warns_of_nothing_and_fills_its_copies_at_once(
    tmp_path: Path,
) -> None:
    """`dialog run` asks its own HTTP API for the copies it keeps (the booth's directory and
    reference desk, the notifier's contacts) while that API does not listen yet (it does once
    every component has started). Every start logged seven warnings that a service was
    unreachable, and a copy kept from the last run was mended only five minutes later."""
    system = SingleProcess(data_dir=tmp_path)
    log = tmp_path / "logs" / "dialog.log"
    for run in ("fresh", "with the last run's copies"):
        offset = log.stat().st_size if log.exists() else 0
        system.start()
        try:
            deadline = time.monotonic() + 8
            synced: set[object] = set()
            while synced != COPIES and time.monotonic() < deadline:
                time.sleep(0.2)
                records = log_records(log, offset)
                synced = {
                    r.get("read_model") for r in records if r["message"] == "read model synced"
                }
        finally:
            system.stop()
        records = log_records(log, offset)
        assert synced == COPIES, (run, synced)
        warned = [r for r in records if r.get("level") in ("warning", "error", "critical")]
        assert not warned, (run, warned)
