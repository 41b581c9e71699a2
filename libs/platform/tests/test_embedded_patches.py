"""The embedded server's patches name the upstream releases they were written for.

Each patch changes private code of nx-27017 or neosqlite; an upgrade may rename or rewrite it.
These tests turn an upgrade into a failure that names the patch to review, instead of a server
that starts with a fix silently gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dialog_platform.embedded import EmbeddedMongo, patches
from dialog_platform.net import port_open


def test_every_patch_was_written_for_the_installed_releases() -> None:
    assert set(patches.WRITTEN_FOR) == {
        "force_python_updates",
        "exact_datetimes",
        "strings_compare_as_strings",
        "small_page_caches",
        "fast_projections",
        "fast_replies",
        "install_gate",
        "transactions_start_first",
    }
    assert patches.outdated() == [], "\n".join(patches.outdated())


def test_an_upgrade_names_each_patch_to_review() -> None:
    installed = {**patches.installed_versions(), "nx-27017": "0.9.0"}
    lines = patches.outdated(installed)
    named = {line.split()[0] for line in lines}
    assert named == {
        "embedded.patches.install_gate",
        "embedded.patches.fast_replies",
        "embedded.patches.transactions_start_first",
    }
    assert all("0.9.0" in line and "review" in line for line in lines)


def test_the_server_refuses_to_start_on_other_releases(tmp_path: Path) -> None:
    # The child's own check, as `dialog run` would meet it after an upgrade.
    code = (
        "from dialog_platform.embedded import patches\n"
        "patches.installed_versions = lambda: {'nx-27017': '0.8.1', 'neosqlite': '1.18.0'}\n"
        "patches.main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "PatchOutdated" in result.stderr
    assert "embedded.patches.fast_projections was written for neosqlite 1.17.2" in result.stderr


def test_the_patched_server_starts_and_answers(tmp_path: Path) -> None:
    server = EmbeddedMongo(data_dir=tmp_path)
    server.start()
    try:
        assert server.alive()
    finally:
        server.stop()
    with pytest.raises(FileNotFoundError):
        (tmp_path / "nx-27017.json").read_text()


def test_each_database_of_the_server_keeps_a_small_page_cache(tmp_path: Path) -> None:
    probe = f"""
from dialog_platform.embedded import patches
from neosqlite import Connection
plain = Connection({str(tmp_path / "a.db")!r})
patches.small_page_caches()
patched = Connection({str(tmp_path / "b.db")!r})
print(*(c.db.execute("PRAGMA cache_size").fetchone()[0] for c in (plain, patched)))
"""
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    # SQLite's default, 2000 KiB, for each of seven databases; then a quarter of a megabyte.
    assert result.stdout.split() == ["-2000", f"-{patches.PAGE_CACHE_KIB}"]


def test_the_server_stops_when_the_process_that_started_it_is_killed(tmp_path: Path) -> None:
    # `dialog run` killed by SIGKILL (or the OOM killer) must not leave its server holding the
    # database files and the port; the next `dialog run` would find it and never supervise it.
    parent_code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from dialog_platform.embedded import EmbeddedMongo\n"
        f"server = EmbeddedMongo(data_dir=Path({str(tmp_path)!r}))\n"
        "server.start()\n"
        "assert server.process is not None\n"
        "print(server.process.pid, server.port, flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", parent_code], stdout=subprocess.PIPE, text=True
    )
    child_pid = 0
    try:
        assert parent.stdout is not None
        child_pid, port = map(int, parent.stdout.readline().split())
        assert port_open("127.0.0.1", port)
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 10
        while _running(child_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _running(child_pid), "the server outlived the process that started it"
        assert not port_open("127.0.0.1", port)
        # Stopped cleanly, as by `stop()`: the next start on the same files works.
        server = EmbeddedMongo(data_dir=tmp_path)
        server.start()
        server.stop()
    finally:
        parent.kill()
        if child_pid and _running(child_pid):
            os.kill(child_pid, signal.SIGKILL)


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
