"""The stand-in printer, `png://DIR`: the receipt as PNG and the exact ESC/POS bytes beside it."""

from __future__ import annotations

import contextlib
import io
import os
import struct
import tempfile
import zlib
from pathlib import Path

from PIL import Image

from dialog_contracts.booths import PrinterState

from .escpos_status import paper_state
from .printer_base import Printer, PrinterError, escpos_job, explain, make_device, paper_pixels

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
        return paper_state(paper, str(self.directory))

    def print_image(self, image: Image.Image, *, name: str) -> None:
        self.check_ready()
        from escpos.printer import Dummy  # slow to import: see printers.open_printer

        device = make_device(Dummy, self.profile)
        paper = paper_pixels(device)
        if paper is not None and image.width > paper:
            raise PrinterError(f"receipt is {image.width} px wide but the paper is {paper} px")
        dots = image.tobytes() if image.mode == "1" else None
        # The same call sequence a real printer gets, so the .bin is byte for byte the job.
        escpos_job(device, image, dots=dots)
        job: bytes = device.output
        png = _png_bytes(image) if dots is None else _one_bit_png(image.size, dots)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            _write_atomically(self.directory / f"{name}.bin", job)
            _write_atomically(self.directory / f"{name}.png", png)
        except OSError as exc:
            raise PrinterError(f"cannot write receipt to {self.directory}: {explain(exc)}") from exc


def _png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    # Half the time of the default level for a quarter more bytes (25 KB a receipt): the
    # stand-in writes one per appeal, and nobody keeps these files for long.
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _one_bit_png(size: tuple[int, int], dots: bytes) -> bytes:
    """A 1-bit greyscale PNG of rows Pillow already packed (`tobytes()` of a mode "1" image).

    Pillow's own PNG writer packs the rows again, bit by bit: 5.5 ms of a receipt's 15 at the
    stand-in, against 1 ms here. Pillow's packing is already PNG's (first pixel in the high
    bit, set for white, each row padded to a whole byte), so each row only gets its filter
    byte (0, none) in front.
    """
    width, height = size
    stride = (width + 7) // 8
    rows = b"".join(b"\0" + dots[top : top + stride] for top in range(0, stride * height, stride))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    # Width, height, bit depth 1, colour type 0 (greyscale), deflate, no filter, no interlace.
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 1))
        + chunk(b"IEND", b"")
    )


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
