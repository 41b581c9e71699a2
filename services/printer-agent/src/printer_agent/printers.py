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
import io
import logging
import os
import re
import socket
import stat
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from escpos import exceptions as escpos_errors
from escpos.printer import Dummy, File, Network, Usb
from PIL import Image

from dialog_contracts.booths import PRINTER_DOWN, PrinterState
from dialog_contracts.receipts import ReceiptRequested

__all__ = [
    "EscposPrinter",
    "PngPrinter",
    "Printer",
    "PrinterError",
    "escpos_job",
    "job_name",
    "open_printer",
    "print_receipt",
    "printer_state",
]

log = logging.getLogger(__name__)

DEFAULT_TCP_PORT = 9100
CONNECT_TIMEOUT = 5.0
# Sending waits on the printer's flow control while it prints: allow for a long receipt.
SEND_TIMEOUT = 30.0
# A printer that answers status queries does so at once; one that does not never will.
STATUS_REPLY_TIMEOUT = 1.0
USB_TIMEOUT_MS = 30_000

# DLE EOT n real-time status queries and the bits of their one-byte replies (Epson ESC/POS).
_STATUS_PRINTER = b"\x10\x04\x01"
_STATUS_OFFLINE_CAUSE = b"\x10\x04\x02"
_STATUS_PAPER = b"\x10\x04\x04"
_OFFLINE = 0x08
_COVER_OPEN = 0x04
_PAPER_END_STOP = 0x20
_ERROR = 0x40
_PAPER_END = 0x60
_PAPER_NEAR_END = 0x0C


class PrinterError(Exception):
    """Printing failed; `reason` is short and meant for people (operators, the event log)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Printer(ABC):
    """One open connection to a printer; use as a context manager."""

    @abstractmethod
    def print_image(self, image: Image.Image, *, name: str) -> None:
        """Print `image` centred and cut the paper. `name` identifies the job (file names)."""

    def state(self) -> tuple[PrinterState, str]:
        """The printer's state (see `printer_state`) and a reason for people."""
        return "unknown", "the printer does not report its status"

    def close(self) -> None:  # noqa: B027 - most printers have nothing to release
        """Release the connection."""

    def __enter__(self) -> Printer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def escpos_job(device: Any, image: Image.Image) -> None:
    """Send one receipt to a python-escpos printer object, real or `Dummy`.

    ESC @ first, so whatever a previous job or a power glitch left set (justification, size,
    page mode) cannot distort this one; ESC a 1 centres the raster on the paper.
    """
    if _paper_pixels(device) is None:
        # Without a profile the receipt is rendered at the paper's width by configuration;
        # telling python-escpos so also stops it printing a warning to stdout per image.
        _set_paper_pixels(device, image.width)
    device.hw("INIT")
    device.set(align="center")
    device.image(image, impl="bitImageRaster", center=True)
    device.cut()


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


def open_printer(url: str) -> Printer:
    """Connect to the printer named by `url` (see the module docstring); raises `PrinterError`."""
    base, _, query = url.partition("?")
    profile = _profile_option(query, url)
    if base.startswith("png://"):
        directory = unquote(base.removeprefix("png://"))
        if not directory:
            raise PrinterError(f"printer URL {url!r} names no directory")
        return PngPrinter(Path(directory), profile=profile)
    if base.startswith("usb://"):
        return _open_usb(base, profile)
    if base.startswith("tcp://"):
        return _open_tcp(base, profile)
    if base.startswith("file://"):
        return _open_file(unquote(urlsplit(base).path), profile)
    if base.startswith("/"):
        return _open_file(base, profile)
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


def _make(factory: Any, profile: str | None, **kwargs: Any) -> Any:
    try:
        return factory(profile=profile, **kwargs)
    except KeyError as exc:
        raise PrinterError(f"unknown printer profile {profile!r}") from exc


def _paper_pixels(device: Any) -> int | None:
    try:
        return int(device.profile.profile_data["media"]["width"]["pixels"])
    except (KeyError, TypeError, ValueError):
        return None


def _set_paper_pixels(device: Any, pixels: int) -> None:
    profile = device.profile
    data = profile.profile_data
    media = dict(data.get("media") or {})
    media["width"] = {**(media.get("width") or {}), "pixels": pixels}
    # On the instance: the profile class, and its dict, are shared by every printer object.
    profile.profile_data = {**data, "media": media}


class EscposPrinter(Printer):
    """A real printer behind a python-escpos connection that is already open."""

    def __init__(self, device: Any, description: str, *, reads_status: bool) -> None:
        self.device = device
        self.description = description
        # A write-only connection (a device file) would only send queries nobody reads.
        self.reads_status = reads_status

    def print_image(self, image: Image.Image, *, name: str) -> None:
        paper = _paper_pixels(self.device)
        if paper is not None and image.width > paper:
            raise PrinterError(
                f"receipt is {image.width} px wide but {self.description} prints {paper} px; "
                "set the receipt width to the paper"
            )
        self._check_ready()
        try:
            escpos_job(self.device, image)
        except TimeoutError as exc:
            raise PrinterError(
                f"{self.description} stopped taking data (paper jam or out of paper?)"
            ) from exc
        except OSError as exc:
            raise PrinterError(f"lost connection to {self.description}: {_why(exc)}") from exc
        except escpos_errors.Error as exc:
            raise PrinterError(f"{self.description} refused the receipt: {exc}") from exc

    def _check_ready(self) -> None:
        """Refuse early when the printer says it cannot print."""
        state, detail = self.state()
        if state in PRINTER_DOWN:
            raise PrinterError(detail)

    def state(self) -> tuple[PrinterState, str]:
        """The printer's state from its DLE EOT replies, and a reason for people.

        Only some printers and connections answer status queries (not device files, not every
        network printer); silence means "unknown", and printing goes on.
        """
        if not self.reads_status:
            return "unknown", f"{self.description}: does not report its status"
        paper = self._status(_STATUS_PAPER)
        if paper is None:
            return "unknown", f"{self.description}: does not report its status"
        if paper & _PAPER_END == _PAPER_END:
            return "out_of_paper", f"{self.description}: out of paper"
        printer = self._status(_STATUS_PRINTER)
        if printer is not None and printer & _OFFLINE:
            cause = self._status(_STATUS_OFFLINE_CAUSE) or 0
            if cause & _COVER_OPEN:
                return "cover_open", f"{self.description}: cover open"
            if cause & _PAPER_END_STOP:
                return "out_of_paper", f"{self.description}: out of paper"
            if cause & _ERROR:
                return "offline", f"{self.description}: printer error (jam or cutter), offline"
            return "offline", f"{self.description}: offline"
        if paper & _PAPER_NEAR_END:
            return "paper_near_end", f"{self.description}: paper near end"
        return "ready", f"{self.description}: ready"

    def _status(self, query: bytes) -> int | None:
        try:
            with self._short_reads():
                reply: bytes = self.device.query_status(query)
        except (OSError, NotImplementedError) as exc:
            if isinstance(exc, OSError) and not isinstance(exc, TimeoutError):
                log.info("%s: status query failed: %s", self.description, exc)
            return None
        # Per ESC/POS a status byte always has bit 4 set and bit 7 clear; anything else is not
        # an answer (e.g. a forwarder that echoes or a printer in another mode).
        if not reply or reply[-1] & 0x90 != 0x10:
            return None
        return reply[-1]

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


def _why(exc: BaseException) -> str:
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return text.strip().splitlines()[-1] if text.strip() else type(exc).__name__


def _open_tcp(base: str, profile: str | None) -> Printer:
    parts = urlsplit(base)
    try:
        host, port = parts.hostname, parts.port or DEFAULT_TCP_PORT
    except ValueError as exc:
        raise PrinterError(f"bad printer address {base!r}: {exc}") from exc
    if not host:
        raise PrinterError(f"printer URL {base!r} names no host")
    description = f"printer at {host}:{port}"
    device = _make(Network, profile, host=host, port=port, timeout=CONNECT_TIMEOUT)
    try:
        device.open()
    except escpos_errors.DeviceNotFoundError as exc:
        cause = exc.__context__
        if isinstance(cause, TimeoutError):
            why = "no answer"
        elif isinstance(cause, OSError):
            why = _why(cause).lower()
        else:
            why = str(exc)
        raise PrinterError(f"{description} unreachable ({why})") from exc
    device.device.settimeout(SEND_TIMEOUT)
    return EscposPrinter(device, description, reads_status=True)


def _open_file(path: str, profile: str | None) -> Printer:
    description = f"printer device {path}"
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise PrinterError(f"{description} not found (unplugged or switched off?)") from None
    except OSError as exc:
        raise PrinterError(f"cannot open {description}: {_why(exc)}") from exc
    # python-escpos opens the path for writing and truncates it: a mistyped setting must not
    # overwrite an ordinary file, so only devices (and pipes, e.g. to a spooler) qualify.
    if not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        raise PrinterError(f"{path} is not a printer device")
    device = _make(File, profile, devfile=path)
    try:
        device.open()
    except escpos_errors.DeviceNotFoundError as exc:
        cause = exc.__context__
        why = _why(cause) if isinstance(cause, OSError) else str(exc)
        raise PrinterError(f"cannot open {description}: {why}") from exc
    return EscposPrinter(device, description, reads_status=False)


def _open_usb(base: str, profile: str | None) -> Printer:
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
    device = _make(Usb, profile, idVendor=vendor, idProduct=product, timeout=USB_TIMEOUT_MS)
    try:
        device.open()
    except escpos_errors.DeviceNotFoundError as exc:
        cause = exc.__context__
        if isinstance(cause, AssertionError):
            raise PrinterError(f"{description} not found (unplugged or switched off?)") from exc
        raise PrinterError(f"cannot open {description}: {_why(cause or exc)}") from exc
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


# The stand-in's paper sensor: a file of this name in its directory holds the one status byte a
# printer answers DLE EOT 4 (paper sensors) with, e.g. 0x7E (paper out) or 0x1E (near end),
# so a test or a demo can run the booth out of paper the way a real printer reports it.
PAPER_SENSOR_FILE = "paper-sensor"


class PngPrinter(Printer):
    """Writes what would be printed: the image as PNG and the ESC/POS job beside it."""

    def __init__(self, directory: Path, *, profile: str | None = None) -> None:
        self.directory = directory
        self.profile = profile

    def state(self) -> tuple[PrinterState, str]:
        try:
            raw = (self.directory / PAPER_SENSOR_FILE).read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return "ready", f"{self.directory}: ready"
        except (OSError, UnicodeDecodeError) as exc:
            return "unknown", f"{self.directory}: paper sensor unreadable ({exc})"
        try:
            paper = int(raw, 0)
        except ValueError:
            return "unknown", f"{self.directory}: paper sensor holds {raw[:20]!r}, not a byte"
        if paper & _PAPER_END == _PAPER_END:
            return "out_of_paper", f"{self.directory}: out of paper"
        if paper & _PAPER_NEAR_END:
            return "paper_near_end", f"{self.directory}: paper near end"
        return "ready", f"{self.directory}: ready"

    def print_image(self, image: Image.Image, *, name: str) -> None:
        state, detail = self.state()
        if state in PRINTER_DOWN:
            raise PrinterError(detail)
        device = _make(Dummy, self.profile)
        paper = _paper_pixels(device)
        if paper is not None and image.width > paper:
            raise PrinterError(f"receipt is {image.width} px wide but the paper is {paper} px")
        # The same call sequence a real printer gets, so the .bin is byte for byte the job.
        escpos_job(device, image)
        job: bytes = device.output
        png = _png_bytes(image)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            _write_atomically(self.directory / f"{name}.bin", job)
            _write_atomically(self.directory / f"{name}.png", png)
        except OSError as exc:
            raise PrinterError(f"cannot write receipt to {self.directory}: {_why(exc)}") from exc


def _png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _write_atomically(path: Path, data: bytes) -> None:
    """Temp file in the same directory, fsync, rename: readers see all of it or nothing."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
