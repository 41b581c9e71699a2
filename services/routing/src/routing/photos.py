"""Portrait placeholders for the fictional demo officials (real deployments upload photos)."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw


def placeholder_portrait(color: str, *, size: int = 320) -> bytes:
    """A head-and-shoulders silhouette on the official's colour, as a PNG."""
    image = Image.new("RGB", (size, size), color)
    draw = ImageDraw.Draw(image)
    light = (235, 235, 235)
    s = size
    draw.ellipse((s * 0.32, s * 0.16, s * 0.68, s * 0.56), fill=light)
    draw.ellipse((s * 0.14, s * 0.60, s * 0.86, s * 1.25), fill=light)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
