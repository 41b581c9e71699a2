"""The fault runs' and the benchmark's receipt watch: each print of a receipt counted once."""

from __future__ import annotations

import os
from pathlib import Path

from dialog_platform.testing.faults import ReceiptWatch


def _print(directory: Path, name: str, body: bytes) -> None:
    # As the PNG stand-in prints: a temp file renamed over the old one.
    temp = directory / f".{name}.png.tmp"
    temp.write_bytes(body)
    os.replace(temp, directory / f"{name}.png")


def test_a_reprint_is_a_second_version_and_a_look_again_adds_none(tmp_path: Path) -> None:
    watch = ReceiptWatch(tmp_path)
    _print(tmp_path, "2026-000001-7-1", b"first")
    (tmp_path / "2026-000001-7-1.bin").write_bytes(b"job")
    watch.scan()
    watch.scan()
    assert [len(v) for v in watch.snapshot().values()] == [1]

    _print(tmp_path, "2026-000001-7-1", b"again")  # printed twice: a kill between print and mark
    _print(tmp_path, "2026-000002-5-1", b"other")
    for _ in range(3):
        watch.scan()
    versions = watch.snapshot()
    assert {name: len(v) for name, v in versions.items()} == {
        "2026-000001-7-1": 2,
        "2026-000002-5-1": 1,
    }
    first, second = versions["2026-000001-7-1"]
    assert first <= second
