"""What every printer shares: the `Printer` interface, `PrinterError` and the ESC/POS job itself."""

from __future__ import annotations

from abc import ABC, abstractmethod
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


def escpos_job(device: Any, image: Image.Image) -> None:
    """Send one receipt to a python-escpos printer object, real or `Dummy`.

    ESC @ first, so whatever a previous job or a power glitch left set (justification, size,
    page mode) cannot distort this one; ESC a 1 centres the raster on the paper.
    """
    if paper_pixels(device) is None:
        # Without a profile the receipt is rendered at the paper's width by configuration;
        # telling python-escpos so also stops it printing a warning to stdout per image.
        _setpaper_pixels(device, image.width)
    device.hw("INIT")
    device.set(align="center")
    device.image(image, impl="bitImageRaster", center=True)
    device.cut()


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
