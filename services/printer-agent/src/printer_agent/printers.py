"""Getting a rendered receipt onto paper through python-escpos.

A printer is named by URL:

- `usb://VID:PID` (hex, e.g. `usb://04b8:0e15`) — python-escpos `Usb` (needs pyusb and libusb);
- `tcp://HOST[:PORT]` — a network receipt printer's raw port (9100 by default), `Network`;
- `/dev/usb/lp0` or `file:///dev/usb/lp0` — a character device (or a FIFO), `File`;
- `png://DIR` — no printer: `DIR/<number>-<copy>.png` plus the exact ESC/POS bytes a printer
  would have received, `DIR/<number>-<copy>.bin`. For development, demos and tests.

Any of them may add `?profile=<python-escpos profile>` (e.g. `?profile=TM-T20II`): with the
paper's pixel width known, an image narrower than the paper is padded to centre it and one
wider is refused with a clear reason instead of being printed garbled.

Everything here blocks; the caller runs it in a worker thread.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from PIL import Image

from dialog_contracts.booths import PrinterState
from dialog_contracts.receipts import ReceiptRequested

from .png_printer import PAPER_SENSOR_FILE, PngPrinter
from .printer_base import Printer, PrinterError, escpos_job

__all__ = [
    "PAPER_SENSOR_FILE",
    "PngPrinter",
    "Printer",
    "PrinterError",
    "escpos_job",
    "job_name",
    "open_printer",
    "print_named",
    "print_receipt",
    "printer_state",
]


def job_name(receipt: ReceiptRequested) -> str:
    # Registration numbers are digits and dashes; anything else must not steer the file path.
    number = re.sub(r"[^0-9A-Za-z-]", "_", receipt.registration_number)
    return f"{number}-{receipt.copy_number}"


def print_receipt(url: str, receipt: ReceiptRequested, image: Image.Image) -> None:
    """Print one rendered receipt on the printer named by `url`; raises `PrinterError`."""
    print_named(url, image, job_name(receipt))


def print_named(url: str, image: Image.Image, name: str) -> None:
    """Print one rendered sheet as the job `name` (letters, digits and dashes only)."""
    with open_printer(url) as printer:
        printer.print_image(image, name=name)


def printer_state(url: str) -> tuple[PrinterState, str]:
    """Ask the printer named by `url` how it is, between receipts as well as before one.

    A printer that cannot even be reached is `offline`, with the reason why.
    """
    try:
        with open_printer(url) as printer:
            return printer.state()
    except PrinterError as exc:
        return "offline", exc.reason


# python-escpos parses its table of printer capabilities from YAML at import (0.12 s, and 2 MB
# of a process that stay) and keeps the result as a pickle in the directory this names. Unset,
# it parses again at every start, into a new temporary directory it leaves behind with 70 KB in
# it (3.1 makes that directory even when the variable is set; it stays empty then).
ESCPOS_CACHE_ENV = "ESCPOS_CAPABILITIES_PICKLE_DIR"


def load_escpos(cache_dir: Path) -> None:
    """Import python-escpos with its parsed capabilities kept in `cache_dir`, when writable.

    Called once at the component's start, before anything imports python-escpos. An unwritable
    directory leaves python-escpos to its temporary one: it must write the file it is told to.
    """
    with contextlib.suppress(OSError):
        cache_dir.mkdir(parents=True, exist_ok=True)
        if os.access(cache_dir, os.W_OK | os.X_OK):
            os.environ.setdefault(ESCPOS_CACHE_ENV, str(cache_dir))
    importlib.import_module("escpos.printer")


def open_printer(url: str) -> Printer:
    """Connect to the printer named by `url` (see the module docstring); raises `PrinterError`."""
    base, _, query = url.partition("?")
    profile = _profile_option(query, url)
    if base.startswith("png://"):
        directory = unquote(base.removeprefix("png://"))
        if not directory:
            raise PrinterError(f"printer URL {url!r} names no directory")
        return PngPrinter(Path(directory), profile=profile)
    # python-escpos takes a quarter of a second to import (its printer capabilities): loaded
    # when a real printer is first opened, not at every start of a service that has none.
    from . import transports

    if base.startswith("usb://"):
        return transports.open_usb(base, profile)
    if base.startswith("tcp://"):
        return transports.open_tcp(base, profile)
    if base.startswith("file://"):
        return transports.open_file(unquote(urlsplit(base).path), profile)
    if base.startswith("/"):
        return transports.open_file(base, profile)
    raise PrinterError(
        f"unsupported printer URL {url!r}: use usb://VID:PID, tcp://HOST:PORT, a device path "
        "or png://DIR"
    )


def _profile_option(query: str, url: str) -> str | None:
    if not query:
        return None
    options = parse_qs(query, keep_blank_values=True)
    unknown = set(options) - {"profile"}
    if unknown:
        raise PrinterError(f"unknown option(s) {', '.join(sorted(unknown))} in {url!r}")
    return options["profile"][-1] or None
