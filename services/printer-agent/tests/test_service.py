"""ReceiptPrinter: render, print, journal — each (appeal, copy) on paper once."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from dialog_contracts.receipts import ReceiptRequested
from dialog_platform.net import free_port
from printer_agent.fonts import FontNotFoundError
from printer_agent.journal import PrintJournal, journal_path
from printer_agent.service import Outcome, ReceiptPrinter

from .receipts import make_receipt as base_receipt


def make_receipt(**changes: Any) -> ReceiptRequested:
    defaults: dict[str, Any] = {"appeal_id": "ap-42", "language": "kk", "category": "question"}
    return base_receipt(**{**defaults, **changes})


def pngs(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.glob("*.png")) if directory.exists() else []


def test_same_receipt_twice_prints_once(tmp_path: Path) -> None:
    out, data = tmp_path / "out", tmp_path / "data"
    printer = ReceiptPrinter(f"png://{out}", 576, data)
    receipt = make_receipt()

    assert printer.handle(receipt) == Outcome(printed=True, duplicate=False, reason=None)
    first = (out / "2025-000042-3-1.png").stat().st_mtime_ns
    assert printer.handle(receipt) == Outcome(printed=False, duplicate=True, reason=None)
    assert pngs(out) == ["2025-000042-3-1.png"]
    assert (out / "2025-000042-3-1.png").stat().st_mtime_ns == first


def test_printed_receipts_are_remembered_across_restarts(tmp_path: Path) -> None:
    out, data = tmp_path / "out", tmp_path / "data"
    receipt = make_receipt()
    assert ReceiptPrinter(f"png://{out}", 576, data).handle(receipt).printed
    (out / "2025-000042-3-1.png").unlink()

    restarted = ReceiptPrinter(f"png://{out}", 576, data)
    assert restarted.handle(receipt) == Outcome(printed=False, duplicate=True)
    assert pngs(out) == []
    assert journal_path(data) == data / "printer-agent" / "journal.sqlite3"
    assert journal_path(data).is_file()


def test_a_reprint_is_a_new_copy(tmp_path: Path) -> None:
    out = tmp_path / "out"
    printer = ReceiptPrinter(f"png://{out}", 384, tmp_path / "data")
    assert printer.handle(make_receipt(copy_number=1)).printed
    assert printer.handle(make_receipt(copy_number=2)).printed
    assert printer.handle(make_receipt(copy_number=2)).duplicate
    other_appeal = make_receipt(appeal_id="ap-43", registration_number="2025-000043-1")
    assert printer.handle(other_appeal).printed
    assert pngs(out) == ["2025-000042-3-1.png", "2025-000042-3-2.png", "2025-000043-1-1.png"]


def test_a_failed_print_is_reported_and_not_journalled(tmp_path: Path) -> None:
    data = tmp_path / "data"
    receipt = make_receipt()
    offline = ReceiptPrinter(f"tcp://127.0.0.1:{free_port()}", 576, data)
    outcome = offline.handle(receipt)
    assert not outcome.printed and not outcome.duplicate
    assert outcome.reason is not None and "unreachable" in outcome.reason

    # Once the printer is back (here: another printer URL), the same request prints.
    out = tmp_path / "out"
    assert ReceiptPrinter(f"png://{out}", 576, data).handle(receipt).printed
    assert pngs(out) == ["2025-000042-3-1.png"]


def test_concurrent_redelivery_prints_once(tmp_path: Path) -> None:
    out = tmp_path / "out"
    printer = ReceiptPrinter(f"png://{out}", 576, tmp_path / "data")
    receipt = make_receipt()
    outcomes: list[Outcome] = []
    threads = [
        threading.Thread(target=lambda: outcomes.append(printer.handle(receipt))) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(o.printed for o in outcomes) == [False, False, False, True]
    assert sum(o.duplicate for o in outcomes) == 3
    assert pngs(out) == ["2025-000042-3-1.png"]


def test_missing_fonts_fail_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(FontNotFoundError):
        ReceiptPrinter(f"png://{tmp_path}", 576, tmp_path / "data", font_dir=tmp_path)


def test_journal_is_idempotent_and_keeps_the_first_mark(tmp_path: Path) -> None:
    journal = PrintJournal(tmp_path)
    assert not journal.already_printed("ap-1", 1)
    journal.mark_printed("ap-1", 1, "2025-000001-1")
    journal.mark_printed("ap-1", 1, "2025-999999-9")
    assert journal.already_printed("ap-1", 1)
    assert not journal.already_printed("ap-1", 2)
    assert not journal.already_printed("ap-2", 1)
    with sqlite3.connect(journal_path(tmp_path)) as db:
        rows = db.execute("SELECT appeal_id, copy_number, registration_number FROM printed")
        assert rows.fetchall() == [("ap-1", 1, "2025-000001-1")]
