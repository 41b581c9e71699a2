from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from dialog_platform.clock import FileOffsetClock, make_clock, move_clock
from dialog_platform.component import utc_now
from dialog_platform.settings import CommonSettings


def test_moving_the_file_moves_a_running_clock(tmp_path: Path) -> None:
    path = tmp_path / "clock"
    clock = FileOffsetClock(path)
    assert abs(clock() - datetime.now(UTC)) < timedelta(seconds=5)
    move_clock(path, timedelta(days=20))
    assert clock() - datetime.now(UTC) > timedelta(days=19, hours=23)
    move_clock(path, timedelta(days=1))
    assert clock() - datetime.now(UTC) > timedelta(days=20, hours=23)


def test_without_the_setting_the_clock_is_the_systems(tmp_path: Path) -> None:
    assert make_clock(CommonSettings()) is utc_now
    assert isinstance(make_clock(CommonSettings(clock_offset_file=tmp_path / "c")), FileOffsetClock)


def test_production_refuses_a_movable_clock(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="development only"):
        CommonSettings(
            environment="production",
            secret_key="x" * 40,  # type: ignore[arg-type]
            clock_offset_file=tmp_path / "c",
        )
