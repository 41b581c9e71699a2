"""The clock every component reads time from.

Deadlines, reminders and quiet hours depend on the date, and tests of a running process (one
process or one per service) need to move it forward without waiting weeks. In development a
file may hold an offset in seconds that is added to the real time; the file is re-read when it
changes, so a test moves every process's clock by writing one number. Production refuses the
setting (see CommonSettings), so there the clock is the system's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from .component import Clock, utc_now
from .settings import CommonSettings


class FileOffsetClock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._offset = timedelta(0)

    def _read(self) -> timedelta:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return timedelta(0)
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            try:
                self._offset = timedelta(seconds=float(self.path.read_text().strip() or 0))
            except ValueError:
                self._offset = timedelta(0)
            self._stamp = stamp
        return self._offset

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self._read()


def move_clock(path: Path, by: timedelta) -> None:
    """Move a FileOffsetClock forward (tests): adds `by` to the offset already in the file."""
    current = FileOffsetClock(path)._read()
    path.write_text(str((current + by).total_seconds()))


def make_clock(settings: CommonSettings) -> Clock:
    if settings.clock_offset_file is None:
        return utc_now
    return FileOffsetClock(settings.clock_offset_file)
