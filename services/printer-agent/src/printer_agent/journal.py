"""The booth's own record of which receipts it has printed.

ReceiptRequested can be delivered more than once (redelivery after a crash or a lost ack), and
a citizen must not walk away with two different-looking slips for one appeal, so each
(appeal, copy) prints once. printer-agent runs on the booth computer with no central database,
hence a SQLite file under the data directory that survives restarts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["PrintJournal", "journal_path"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS printed (
    appeal_id TEXT NOT NULL,
    copy_number INTEGER NOT NULL,
    registration_number TEXT NOT NULL,
    printed_at TEXT NOT NULL,
    PRIMARY KEY (appeal_id, copy_number)
)
"""


def journal_path(data_dir: Path) -> Path:
    return data_dir / "printer-agent" / "journal.sqlite3"


class PrintJournal:
    def __init__(self, data_dir: Path) -> None:
        self.path = journal_path(data_dir)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            # WAL keeps a reader from blocking on the writer and survives power cuts intact.
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # A connection per call: callers hop between worker threads, and sqlite3 connections
        # must stay on the thread that made them.
        with closing(sqlite3.connect(self.path, timeout=30)) as db:
            # FULL: a mark that returned is on disk, so a power cut cannot cause a reprint.
            db.execute("PRAGMA synchronous=FULL")
            with db:
                yield db

    def already_printed(self, appeal_id: str, copy: int) -> bool:
        with self._connect() as db:
            row = db.execute(
                "SELECT 1 FROM printed WHERE appeal_id = ? AND copy_number = ?",
                (appeal_id, copy),
            ).fetchone()
        return row is not None

    def mark_printed(self, appeal_id: str, copy: int, registration_number: str) -> None:
        """Record a printed receipt; marking the same one again keeps the first record."""
        with self._connect() as db:
            db.execute(
                "INSERT OR IGNORE INTO printed"
                " (appeal_id, copy_number, registration_number, printed_at)"
                " VALUES (?, ?, ?, ?)",
                (appeal_id, copy, registration_number, datetime.now(UTC).isoformat()),
            )
