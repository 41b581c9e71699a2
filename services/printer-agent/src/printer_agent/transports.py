"""The real printers: python-escpos `Usb`, `Network` (tcp://) and `File` (a device) connections.

Everything here blocks; the caller runs it in a worker thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from escpos import exceptions as escpos_errors
from escpos.printer import File, Network, Usb
from PIL import Image

from dialog_contracts.booths import PrinterState

from .escpos_status import printer_status, status_byte
from .printer_base import Printer, PrinterError, escpos_job, explain, make_device, paper_pixels

log = logging.getLogger(__name__)

DEFAULT_TCP_PORT = 9100
CONNECT_TIMEOUT = 5.0
# Sending waits on the printer's flow control while it prints: allow for a long receipt.
SEND_TIMEOUT = 30.0
# A printer that answers status queries does so at once; one that does not never will.
STATUS_REPLY_TIMEOUT = 1.0
USB_TIMEOUT_MS = 30_000


class EscposPrinter(Printer):
    """A real printer behind a python-escpos connection that is already open."""

    def __init__(self, device: Any, description: str, *, reads_status: bool) -> None:
        self.device = device
        self.description = description
        # A write-only connection (a device file) would only send queries nobody reads.
        self.reads_status = reads_status

    def print_image(self, image: Image.Image, *, name: str) -> None:
        paper = paper_pixels(self.device)
        if paper is not None and image.width > paper:
            raise PrinterError(
                f"receipt is {image.width} px wide but {self.description} prints {paper} px; "
                "set the receipt width to the paper"
            )
        self.check_ready()
        try:
            escpos_job(self.device, image)
        except TimeoutError as exc:
            raise PrinterError(
                f"{self.description} stopped taking data (paper jam or out of paper?)"
            ) from exc
        except OSError as exc:
            raise PrinterError(f"lost connection to {self.description}: {explain(exc)}") from exc
        except escpos_errors.Error as exc:
            raise PrinterError(f"{self.description} refused the receipt: {exc}") from exc

    def state(self) -> tuple[PrinterState, str]:
        """The printer's state from its DLE EOT replies, and a reason for people.

        Only some printers and connections answer status queries (not device files, not every
        network printer); silence means "unknown", and printing goes on.
        """
        if not self.reads_status:
            return "unknown", f"{self.description}: does not report its status"
        return printer_status(self._status, self.description)

    def _status(self, query: bytes) -> int | None:
        try:
            with self._short_reads():
                reply: bytes = self.device.query_status(query)
        except (OSError, NotImplementedError) as exc:
            if isinstance(exc, OSError) and not isinstance(exc, TimeoutError):
                log.info("%s: status query failed: %s", self.description, exc)
            return None
        return status_byte(reply)

    @contextlib.contextmanager
    def _short_reads(self) -> Iterator[None]:
        sock = self.device.device if isinstance(self.device, Network) else None
        if not isinstance(sock, socket.socket):
            yield
            return
        previous = sock.gettimeout()
        sock.settimeout(STATUS_REPLY_TIMEOUT)
        try:
            yield
        finally:
            sock.settimeout(previous)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.device.close()


def _opened(device: Any, failed: Callable[[BaseException | None, Exception], str]) -> Any:
    """Open a python-escpos connection; `failed` words why not, from the error it hides."""
    try:
        device.open()
    except escpos_errors.DeviceNotFoundError as exc:
        raise PrinterError(failed(exc.__context__, exc)) from exc
    return device


def open_tcp(base: str, profile: str | None) -> Printer:
    parts = urlsplit(base)
    try:
        host, port = parts.hostname, parts.port or DEFAULT_TCP_PORT
    except ValueError as exc:
        raise PrinterError(f"bad printer address {base!r}: {exc}") from exc
    if not host:
        raise PrinterError(f"printer URL {base!r} names no host")
    description = f"printer at {host}:{port}"

    def failed(cause: BaseException | None, exc: Exception) -> str:
        if isinstance(cause, TimeoutError):
            why = "no answer"
        elif isinstance(cause, OSError):
            why = explain(cause).lower()
        else:
            why = str(exc)
        return f"{description} unreachable ({why})"

    device = _opened(
        make_device(Network, profile, host=host, port=port, timeout=CONNECT_TIMEOUT), failed
    )
    device.device.settimeout(SEND_TIMEOUT)
    return EscposPrinter(device, description, reads_status=True)


def open_file(path: str, profile: str | None) -> Printer:
    description = f"printer device {path}"
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise PrinterError(f"{description} not found (unplugged or switched off?)") from None
    except OSError as exc:
        raise PrinterError(f"cannot open {description}: {explain(exc)}") from exc
    # python-escpos opens the path for writing and truncates it: a mistyped setting must not
    # overwrite an ordinary file, so only devices (and pipes, e.g. to a spooler) qualify.
    if not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        raise PrinterError(f"{path} is not a printer device")

    def failed(cause: BaseException | None, exc: Exception) -> str:
        return f"cannot open {description}: {explain(cause) if isinstance(cause, OSError) else exc}"

    device = _opened(make_device(File, profile, devfile=path), failed)
    return EscposPrinter(device, description, reads_status=False)


def open_usb(base: str, profile: str | None) -> Printer:
    match = re.fullmatch(r"usb://([0-9a-fA-F]{1,4}):([0-9a-fA-F]{1,4})/?", base)
    if match is None:
        raise PrinterError(f"bad USB printer address {base!r}: expected usb://VID:PID in hex")
    vendor, product = int(match[1], 16), int(match[2], 16)
    description = f"USB printer {vendor:04x}:{product:04x}"
    present = _usb_device_present(vendor, product)
    if present is False:
        raise PrinterError(f"{description} not found (unplugged or switched off?)")
    if not Usb.is_usable():
        raise PrinterError(
            f"cannot reach {description}: USB printing needs pyusb and libusb installed"
        )

    def failed(cause: BaseException | None, exc: Exception) -> str:
        if isinstance(cause, AssertionError):
            return f"{description} not found (unplugged or switched off?)"
        return f"cannot open {description}: {explain(cause or exc)}"

    device = make_device(Usb, profile, idVendor=vendor, idProduct=product, timeout=USB_TIMEOUT_MS)
    try:
        device = _opened(device, failed)
    except ValueError as exc:  # pyusb's NoBackendError: libusb itself is missing
        raise PrinterError(f"cannot reach {description}: {exc}") from exc
    return EscposPrinter(device, description, reads_status=True)


SYSFS_USB = Path("/sys/bus/usb/devices")


def _usb_device_present(vendor: int, product: int) -> bool | None:
    """Whether the kernel sees the device (Linux sysfs); None when we cannot tell.

    Asking sysfs first gives a plain "not found" even where pyusb is not installed.
    """
    if not Path("/sys/bus").is_dir():
        return None
    if not SYSFS_USB.is_dir():
        return False  # sysfs is there but the kernel has no USB bus at all
    wanted = (f"{vendor:04x}", f"{product:04x}")
    for device in SYSFS_USB.iterdir():
        try:
            ids = (
                (device / "idVendor").read_text().strip().lower(),
                (device / "idProduct").read_text().strip().lower(),
            )
        except OSError:
            continue  # interfaces and hubs' ports have no ids
        if ids == wanted:
            return True
    return False
