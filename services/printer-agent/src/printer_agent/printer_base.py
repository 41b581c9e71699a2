"""What every printer shares: the `Printer` interface, `PrinterError` and the ESC/POS job itself."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from types import TracebackType
from typing import Any

from PIL import Image

from dialog_contracts.booths import PRINTER_DOWN, PrinterState


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

    def check_ready(self) -> None:
        """Refuse early when the printer says it cannot print."""
        state, detail = self.state()
        if state in PRINTER_DOWN:
            raise PrinterError(detail)

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


def escpos_job(device: Any, image: Image.Image, *, dots: bytes | None = None) -> None:
    """Send one receipt to a python-escpos printer object, real or `Dummy`.

    ESC @ first, so whatever a previous job or a power glitch left set (justification, size,
    page mode) cannot distort this one; ESC a 1 centres the raster on the paper. `dots` is
    `image.tobytes()` when the caller made it already (see `raster`).
    """
    if paper_pixels(device) is None:
        # Without a profile the receipt is rendered at the paper's width by configuration;
        # telling python-escpos so also stops it printing a warning to stdout per image.
        _setpaper_pixels(device, image.width)
    device.hw("INIT")
    device.set(align="center")
    # What python-escpos's `image(impl="bitImageRaster", center=True)` sends, made from the
    # 1-bit receipt directly: its own path converts the whole sheet five times per copy
    # (RGBA, paste, L, invert, 1), about 30 ms of a receipt's 40.
    # One write per fragment, as python-escpos does: a slow USB printer's timeout is per write.
    for fragment in raster(image, paper_pixels(device), dots=dots):
        device._raw(fragment)
    device.cut()


GS_V_0 = b"\x1dv0\x00"  # GS v 0, normal density both ways
# A printer's input buffer takes a bounded raster: python-escpos sends 960 rows at most.
FRAGMENT_ROWS = 960
_INK = bytes(255 - b for b in range(256))  # PIL's 1-bit: set bit = white; ESC/POS: set = dot


def raster(image: Image.Image, paper: int | None, *, dots: bytes | None = None) -> Iterator[bytes]:
    """`image` as GS v 0 raster commands, centred on `paper` pixels when that is wider.

    Rows are padded to whole bytes without dots, and the sheet is sent in fragments of at
    most `FRAGMENT_ROWS` rows, each its own command. `dots`, if given, is `image.tobytes()`:
    Pillow packs a 1-bit receipt bit by bit, a few milliseconds a receipt, so a caller that
    needs the packed rows too (the PNG stand-in) packs them once.
    """
    sheet = image if image.mode == "1" else _one_bit(image)
    width = max(sheet.width, paper or 0)
    row_bytes = (width + 7) // 8
    if sheet.width != row_bytes * 8:
        canvas = Image.new("1", (row_bytes * 8, sheet.height), 1)
        canvas.paste(sheet, ((width - sheet.width) // 2, 0))
        sheet = canvas
    ink = (dots if dots is not None and sheet is image else sheet.tobytes()).translate(_INK)
    for top in range(0, sheet.height, FRAGMENT_ROWS):
        rows = min(FRAGMENT_ROWS, sheet.height - top)
        header = GS_V_0 + row_bytes.to_bytes(2, "little") + rows.to_bytes(2, "little")
        yield header + ink[top * row_bytes : (top + rows) * row_bytes]


def _one_bit(image: Image.Image) -> Image.Image:
    """Any picture as 1-bit on white, transparency as paper, as python-escpos flattens it."""
    rgba = image.convert("RGBA")
    flat = Image.new("RGB", rgba.size, (255, 255, 255))
    flat.paste(rgba, mask=rgba.getchannel("A"))
    return flat.convert("L").convert("1")


def make_device(factory: Any, profile: str | None, **kwargs: Any) -> Any:
    try:
        return factory(profile=profile, **kwargs)
    except KeyError as exc:
        raise PrinterError(f"unknown printer profile {profile!r}") from exc


def paper_pixels(device: Any) -> int | None:
    try:
        return int(device.profile.profile_data["media"]["width"]["pixels"])
    except (KeyError, TypeError, ValueError):
        return None


def _setpaper_pixels(device: Any, pixels: int) -> None:
    profile = device.profile
    data = profile.profile_data
    media = dict(data.get("media") or {})
    media["width"] = {**(media.get("width") or {}), "pixels": pixels}
    # On the instance: the profile class, and its dict, are shared by every printer object.
    profile.profile_data = {**data, "media": media}


def explain(exc: BaseException) -> str:
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return text.strip().splitlines()[-1] if text.strip() else type(exc).__name__
