"""QR codes sized for thermal paper: whole-pixel modules, medium error correction."""

from __future__ import annotations

import functools

import qrcode
import qrcode.constants
from PIL import Image


def qr_code(url: str) -> qrcode.QRCode:
    """The QR code of the tracking address; medium error correction survives thermal smudges."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(url)
    code.make(fit=True)
    return code


# A booth prints the same tracking address on every receipt: the code is made once, not by
# trying all eight masks again for each citizen. Callers only paste the bitmap, never draw on it.
@functools.lru_cache(maxsize=16)
def qr_image(url: str, side: int, room: int) -> tuple[Image.Image, int]:
    """The QR code as a bitmap about `side` wide, and its module size in pixels.

    Modules are whole pixels, so all are the same size, as scanners expect; at least 3 where
    the code and its 4-module quiet zones fit in `room`, since smaller dots blur on thermal paper.
    """
    matrix: list[list[bool]] = qr_code(url).get_matrix()
    modules = len(matrix)
    module = max(1, min(max(3, side // modules), room // (modules + 8)))
    small = Image.new("1", (modules, modules), 1)
    small.putdata([0 if dark else 1 for row in matrix for dark in row])
    side = modules * module
    return small.resize((side, side), Image.Resampling.NEAREST), module
