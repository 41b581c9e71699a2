"""Printing through python-escpos: png:// files, a raw TCP printer port, device files, USB."""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from escpos.printer import Dummy
from PIL import Image

from dialog_contracts.receipts import ReceiptRequested
from dialog_platform.net import free_port
from printer_agent.printers import PrinterError, escpos_job, open_printer, print_receipt
from printer_agent.receipt import render_receipt

from .receipts import make_receipt

ESC_INIT = b"\x1b@"
RASTER = b"\x1dv0"
CUT = b"\x1dV"
STATUS_QUERIES = re.compile(rb"(?:\x10\x04[\x01\x02\x04])*")


@pytest.fixture(scope="module")
def receipt() -> ReceiptRequested:
    return make_receipt()


@pytest.fixture(scope="module")
def image(receipt: ReceiptRequested) -> Image.Image:
    return render_receipt(receipt, width=576)


def expected_job(image: Image.Image) -> bytes:
    dummy = Dummy()
    escpos_job(dummy, image)
    data: bytes = dummy.output
    return data


class NetworkPrinter:
    """A receipt printer's raw TCP port (9100-style) on loopback.

    It records every byte and, like a real printer, answers the DLE EOT n real-time status
    queries with one status byte; `status=None` plays a printer that never answers them.
    """

    def __init__(self, status: dict[int, int] | None = None) -> None:
        self.status = status
        self.received = bytearray()
        self.connections = 0
        self.done = threading.Event()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        self.server.settimeout(30)
        try:
            conn, _ = self.server.accept()
        except OSError:
            return
        self.connections += 1
        with conn:
            scanned = 0
            while chunk := conn.recv(65536):
                self.received += chunk
                while (at := self.received.find(b"\x10\x04", scanned)) >= 0 and at + 2 < len(
                    self.received
                ):
                    query = self.received[at + 2]
                    if self.status is not None and query in self.status:
                        conn.sendall(bytes([self.status[query]]))
                    scanned = at + 3
                scanned = max(scanned, len(self.received) - 2)
        self.done.set()

    def wait(self) -> bytes:
        assert self.done.wait(30), "the printer connection was not closed"
        return bytes(self.received)

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def network_printer() -> Any:
    made: list[NetworkPrinter] = []

    def make(status: dict[int, int] | None = None) -> NetworkPrinter:
        made.append(NetworkPrinter(status))
        return made[-1]

    yield make
    for printer in made:
        printer.close()


READY = {1: 0x12, 2: 0x12, 4: 0x12}


# --- png:// --------------------------------------------------------------------------------


def test_png_writes_image_and_escpos_job(
    tmp_path: Path, receipt: ReceiptRequested, image: Image.Image
) -> None:
    print_receipt(f"png://{tmp_path}", receipt, image)
    png, job = tmp_path / "2025-000042-3-1.png", tmp_path / "2025-000042-3-1.bin"
    assert sorted(p.name for p in tmp_path.iterdir()) == [job.name, png.name]

    data = job.read_bytes()
    assert data.startswith(ESC_INIT)
    assert data.index(RASTER) < data.rindex(CUT)
    assert data == expected_job(image)
    with Image.open(png) as saved:
        assert saved.size == image.size
        assert saved.convert("1").tobytes() == image.tobytes()


def test_png_raster_header_matches_the_image(tmp_path: Path, receipt: ReceiptRequested) -> None:
    narrow = render_receipt(receipt, width=384)
    print_receipt(f"png://{tmp_path}", receipt, narrow)
    data = (tmp_path / "2025-000042-3-1.bin").read_bytes()
    at = data.index(RASTER)
    width_bytes = int.from_bytes(data[at + 4 : at + 6], "little")
    rows = int.from_bytes(data[at + 6 : at + 8], "little")
    assert width_bytes == 384 // 8
    # Tall images go out in several GS v 0 fragments; their rows add up to the image.
    total = 0
    for match in re.finditer(re.escape(RASTER), data):
        total += int.from_bytes(data[match.start() + 6 : match.start() + 8], "little")
    assert 0 < rows <= total == narrow.height


def escpos_own_job(image: Image.Image, profile: str | None) -> bytes:
    """The job with python-escpos's own `image()` making the raster, centred."""
    dummy = Dummy(profile=profile)
    if profile is None:
        dummy.profile.profile_data = {
            **dummy.profile.profile_data,
            "media": {"width": {"pixels": image.width}},
        }
    dummy.hw("INIT")
    dummy.set(align="center")
    dummy.image(image, impl="bitImageRaster", center=True)
    dummy.cut()
    data: bytes = dummy.output
    return data


def pictures() -> dict[str, Image.Image]:
    odd = Image.new("1", (203, 300), 1)  # a width that is not whole bytes
    for x in range(0, 203, 3):
        odd.putpixel((x, x % 300), 0)
    badge = Image.new("RGBA", (250, 120), (0, 0, 0, 0))  # transparency is paper
    for x in range(40, 210):
        for y in range(20, 100):
            badge.putpixel((x, y), (0, 0, 0, 255) if (x + y) % 7 else (255, 255, 255, 255))
    return {"odd": odd, "badge": badge}


@pytest.mark.parametrize("profile", [None, "TM-T20II"])
@pytest.mark.parametrize("name", ["receipt", "odd", "badge"])
def test_the_raster_is_the_one_python_escpos_would_send(
    image: Image.Image, name: str, profile: str | None
) -> None:
    picture = image if name == "receipt" else pictures()[name]
    dummy = Dummy(profile=profile)
    escpos_job(dummy, picture)
    assert dummy.output == escpos_own_job(picture, profile)


def test_the_png_stand_in_shows_a_sheet_of_a_width_that_is_not_whole_bytes(
    tmp_path: Path,
) -> None:
    odd = pictures()["odd"]
    with open_printer(f"png://{tmp_path}") as printer:
        printer.print_image(odd, name="sheet")
    with Image.open(tmp_path / "sheet.png") as saved:
        assert (saved.mode, saved.size) == ("1", odd.size)
        assert saved.tobytes() == odd.tobytes()
    assert (tmp_path / "sheet.bin").read_bytes() == escpos_own_job(odd, None)


def test_a_tall_narrow_sheet_is_centred_in_every_fragment(receipt: ReceiptRequested) -> None:
    # python-escpos centres only sheets of one fragment; a receipt is three.
    narrow = render_receipt(receipt, width=384)
    assert narrow.height > 960
    dummy = Dummy(profile="TM-T20II")
    escpos_job(dummy, narrow)
    data: bytes = dummy.output
    starts = [m.start() for m in re.finditer(re.escape(RASTER), data)]
    assert len(starts) == -(-narrow.height // 960)
    assert all(int.from_bytes(data[at + 4 : at + 6], "little") == 576 // 8 for at in starts)
    first = data[starts[0] + 8 : starts[0] + 8 + 72 * 960]
    # The margins, 96 dots each side, carry no ink; the sheet between them is the receipt.
    rows = [first[r * 72 : (r + 1) * 72] for r in range(960)]
    assert all(row[:12] == row[-12:] == bytes(12) for row in rows)
    inked = Image.frombytes("1", (384, 960), b"".join(row[12:60] for row in rows))
    assert inked.tobytes() == bytes(255 - b for b in narrow.crop((0, 0, 384, 960)).tobytes())


def test_png_copy_number_names_the_file(tmp_path: Path, image: Image.Image) -> None:
    print_receipt(f"png://{tmp_path}", make_receipt(copy_number=2), image)
    assert (tmp_path / "2025-000042-3-2.png").is_file()
    assert (tmp_path / "2025-000042-3-2.bin").is_file()


def test_png_write_failure_leaves_no_partial_file(
    tmp_path: Path,
    receipt: ReceiptRequested,
    image: Image.Image,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    print_receipt(f"png://{tmp_path}", receipt, image)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def disk_gone(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", disk_gone)
    other = render_receipt(make_receipt(access_code="87654321"), width=576)
    with pytest.raises(PrinterError, match="cannot write receipt"):
        print_receipt(f"png://{tmp_path}", receipt, other)
    monkeypatch.undo()
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after == before
    with Image.open(io.BytesIO(after["2025-000042-3-1.png"])) as still:
        still.load()


def test_profile_centres_a_narrow_receipt_and_refuses_a_wide_one(
    tmp_path: Path, receipt: ReceiptRequested, image: Image.Image
) -> None:
    narrow = render_receipt(receipt, width=384)
    print_receipt(f"png://{tmp_path}?profile=TM-T20II", receipt, narrow)
    data = (tmp_path / "2025-000042-3-1.bin").read_bytes()
    at = data.index(RASTER)
    assert int.from_bytes(data[at + 4 : at + 6], "little") == 576 // 8  # padded to the paper

    with pytest.raises(PrinterError, match=r"576 px wide.*512"):
        print_receipt(f"png://{tmp_path}?profile=TM-T88V", receipt, image)


# --- tcp:// --------------------------------------------------------------------------------


def test_tcp_printer_receives_the_escpos_raster_job(
    network_printer: Any, receipt: ReceiptRequested, image: Image.Image
) -> None:
    printer = network_printer(READY)
    print_receipt(printer.url, receipt, image)
    received = printer.wait()
    job = expected_job(image)
    assert received.endswith(job)
    assert STATUS_QUERIES.fullmatch(received[: len(received) - len(job)])
    assert RASTER in received and CUT in received
    assert printer.connections == 1


def test_tcp_printer_that_never_answers_status_still_prints(
    network_printer: Any, receipt: ReceiptRequested, image: Image.Image
) -> None:
    printer = network_printer(None)
    print_receipt(printer.url, receipt, image)
    assert printer.wait().endswith(expected_job(image))


def test_tcp_paper_near_end_still_prints(
    network_printer: Any, receipt: ReceiptRequested, image: Image.Image
) -> None:
    printer = network_printer({**READY, 4: 0x1E})
    print_receipt(printer.url, receipt, image)
    assert printer.wait().endswith(expected_job(image))


def test_tcp_paper_out_is_reported_and_nothing_printed(
    network_printer: Any, receipt: ReceiptRequested, image: Image.Image
) -> None:
    printer = network_printer({1: 0x1A, 2: 0x32, 4: 0x72})
    with pytest.raises(PrinterError, match="out of paper") as failure:
        print_receipt(printer.url, receipt, image)
    assert failure.value.reason.endswith("out of paper")
    assert RASTER not in printer.wait()


def test_tcp_cover_open_is_reported(
    network_printer: Any, receipt: ReceiptRequested, image: Image.Image
) -> None:
    printer = network_printer({1: 0x1A, 2: 0x16, 4: 0x12})
    with pytest.raises(PrinterError, match="cover open"):
        print_receipt(printer.url, receipt, image)
    assert RASTER not in printer.wait()


def test_unreachable_tcp_printer(receipt: ReceiptRequested, image: Image.Image) -> None:
    port = free_port()
    with pytest.raises(PrinterError, match=rf"127\.0\.0\.1:{port} unreachable \(.*refused"):
        print_receipt(f"tcp://127.0.0.1:{port}", receipt, image)


# --- device files, USB, bad URLs -------------------------------------------------------------


def test_device_file_receives_the_job(
    tmp_path: Path, receipt: ReceiptRequested, image: Image.Image
) -> None:
    # A FIFO is a real device-like file: what is written comes out of the other end.
    device = tmp_path / "lp0"
    os.mkfifo(device)
    for url in (str(device), f"file://{device}"):
        received: list[bytes] = []
        reader = threading.Thread(target=lambda sink=received: sink.append(device.read_bytes()))
        reader.start()
        print_receipt(url, receipt, image)
        reader.join(30)
        # Write-only: no status queries mixed into the job.
        assert received == [expected_job(image)]


def test_an_ordinary_file_is_never_overwritten(
    tmp_path: Path, receipt: ReceiptRequested, image: Image.Image
) -> None:
    precious = tmp_path / "settings.conf"
    precious.write_text("keep me")
    with pytest.raises(PrinterError, match="not a printer device"):
        print_receipt(str(precious), receipt, image)
    assert precious.read_text() == "keep me"


def test_missing_device_file(receipt: ReceiptRequested, image: Image.Image) -> None:
    with pytest.raises(PrinterError, match=r"/dev/usb/lp97 not found"):
        print_receipt("/dev/usb/lp97", receipt, image)


def test_usb_printer_that_is_not_plugged_in(receipt: ReceiptRequested, image: Image.Image) -> None:
    with pytest.raises(PrinterError, match=r"USB printer ffff:fffe not found"):
        print_receipt("usb://ffff:fffe", receipt, image)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("usb://04b8", "bad USB printer address"),
        ("usb://04b8:xyz", "bad USB printer address"),
        ("lpt://printer", "unsupported printer URL"),
        ("tcp://", "names no host"),
        ("tcp://printer:notaport", "bad printer address"),
        ("png://", "names no directory"),
        ("png:///tmp/x?speed=fast", "unknown option"),
        ("png:///tmp/x?profile=NoSuchPrinter", "unknown printer profile"),
    ],
)
def test_bad_printer_urls(
    url: str, reason: str, receipt: ReceiptRequested, image: Image.Image
) -> None:
    with pytest.raises(PrinterError, match=reason):
        print_receipt(url, receipt, image)


def test_open_printer_is_a_context_manager(tmp_path: Path, image: Image.Image) -> None:
    with open_printer(f"png://{tmp_path}") as printer:
        printer.print_image(image, name="sample")
    assert (tmp_path / "sample.png").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def _import_escpos(cache_dir: Path | None, temp_dir: Path) -> None:
    call = f"load_escpos(Path({str(cache_dir)!r}))" if cache_dir else "import escpos.printer"
    probe = f"from pathlib import Path\nfrom printer_agent.printers import load_escpos\n{call}\n"
    environment = {k: v for k, v in os.environ.items() if k != "ESCPOS_CAPABILITIES_PICKLE_DIR"}
    subprocess.run(
        [sys.executable, "-c", probe],
        env={**environment, "TMPDIR": str(temp_dir)},
        check=True,
        timeout=60,
    )


def test_escpos_keeps_its_parsed_capabilities_in_the_data_dir_not_a_new_temp_dir(
    tmp_path: Path,
) -> None:
    temp_dir, cache = tmp_path / "tmp", tmp_path / "data" / "cache" / "escpos"
    temp_dir.mkdir()

    def parsed_in_temp() -> int:
        return len(list(temp_dir.rglob("*.pickle")))

    _import_escpos(None, temp_dir)  # python-escpos left to itself: parsed again at every start
    _import_escpos(None, temp_dir)
    assert parsed_in_temp() == 2
    for _ in range(2):
        _import_escpos(cache, temp_dir)
    assert parsed_in_temp() == 2
    assert [p.suffix for p in cache.iterdir()] == [".pickle"]
