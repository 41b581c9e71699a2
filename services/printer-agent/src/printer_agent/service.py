"""Receipt printing for one booth, independent of how requests arrive (bus, HTTP, a test)."""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from dialog_contracts import ReferencePrintRequested
from dialog_contracts.receipts import ReceiptRequested

from .fonts import find_fonts
from .journal import PrintJournal
from .printers import PrinterError, print_named, print_receipt
from .receipt import render_receipt
from .sheet import render_sheet

__all__ = ["Outcome", "ReceiptPrinter"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    printed: bool
    duplicate: bool = False
    reason: str | None = None


class ReceiptPrinter:
    """Renders, prints and journals receipts; `handle` blocks, so run it in a worker thread."""

    def __init__(
        self, printer_url: str, width: int, data_dir: Path, font_dir: Path | None = None
    ) -> None:
        self.printer_url = printer_url
        self.width = width
        self.font_dir = font_dir
        # Fail at start-up, not at the first citizen's receipt, when the font is missing.
        find_fonts(font_dir)
        self.journal = PrintJournal(data_dir)
        # One paper path: jobs go one at a time, which also makes check-print-mark atomic for
        # a redelivered request arriving while the first is still printing.
        self._lock = threading.Lock()

    def handle(self, receipt: ReceiptRequested) -> Outcome:
        with self._lock:
            if self.journal.already_printed(receipt.appeal_id, receipt.copy_number):
                return Outcome(printed=False, duplicate=True)
            image = render_receipt(receipt, width=self.width, font_dir=self.font_dir)
            try:
                print_receipt(self.printer_url, receipt, image)
            except PrinterError as exc:
                log.warning(
                    "receipt %s copy %d not printed: %s",
                    receipt.registration_number,
                    receipt.copy_number,
                    exc.reason,
                )
                return Outcome(printed=False, reason=exc.reason)
            # A crash between printing and this mark reprints on redelivery: a second slip is
            # better than none, since without it the citizen cannot see the answer.
            try:
                self.journal.mark_printed(
                    receipt.appeal_id, receipt.copy_number, receipt.registration_number
                )
            except sqlite3.Error:
                # The paper is already in the citizen's hand; report the print as done.
                log.exception(
                    "receipt %s copy %d printed but not journalled",
                    receipt.registration_number,
                    receipt.copy_number,
                )
            return Outcome(printed=True)

    def handle_sheet(self, request: ReferencePrintRequested) -> Outcome:
        """A reference entry: journalled by its print id, so a redelivery prints nothing."""
        key = f"reference-{request.print_id}"
        with self._lock:
            if self.journal.already_printed(key, 1):
                return Outcome(printed=False, duplicate=True)
            image = render_sheet(request, width=self.width, font_dir=self.font_dir)
            try:
                print_named(self.printer_url, image, f"ref-{request.print_id}")
            except PrinterError as exc:
                log.warning("reference sheet not printed: %s", exc.reason)
                return Outcome(printed=False, reason=exc.reason)
            try:
                self.journal.mark_printed(key, 1, request.entry_id)
            except sqlite3.Error:
                log.exception("reference sheet printed but not journalled")
            return Outcome(printed=True)
