"""The control office's charts, drawn on the server as inline SVG (no script, no CDN)."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from markupsafe import Markup

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 28, 44
RECEIVED, ANSWERED = "#2f6db5", "#3a9a5b"


def _nice_max(value: int) -> int:
    """The axis top: four equal steps of 1, 2 or 5 times a power of ten."""
    need = max(-(-value // 4), 1)
    base = 1
    while True:
        for m in (1, 2, 5):
            if m * base >= need:
                return 4 * m * base
        base *= 10


def weekly_chart(
    weeks: list[dict[str, Any]], *, received: str, answered: str, title: str
) -> Markup:
    """Received and answered per week as paired bars, with a legend in the page's language."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    counts = [int(w.get(k, 0)) for w in weeks for k in ("received", "answered")]
    top = _nice_max(max([1, *counts]))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="chart" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(5):
        value = top * i // 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#555">{value}</text>'
        )
    n = max(len(weeks), 1)
    slot = plot_w / n
    bar = max(min(slot * 0.36, 28), 2)
    for i, week in enumerate(weeks):
        x0 = LEFT + i * slot + slot / 2
        for offset, key, color in ((-bar, "received", RECEIVED), (0.0, "answered", ANSWERED)):
            count = int(week.get(key, 0))
            h = plot_h * count / top
            parts.append(
                f'<rect class="bar-{key}" x="{x0 + offset:.1f}" y="{TOP + plot_h - h:.1f}" '
                f'width="{bar:.1f}" height="{h:.1f}" fill="{color}">'
                f"<title>{escape(str(week.get('week', '')))}: {count}</title></rect>"
            )
        if n <= 16 or i % 2 == 0:
            label = escape(str(week.get("week", ""))[-3:])
            parts.append(
                f'<text x="{x0:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
                f'font-size="11" fill="#333">{label}</text>'
            )
    if not weeks:
        parts.append(
            f'<text x="{WIDTH / 2}" y="{TOP + plot_h / 2}" text-anchor="middle" '
            'fill="#777">—</text>'
        )
    legend_y = HEIGHT - 10
    parts.append(
        f'<rect x="{LEFT}" y="{legend_y - 10}" width="12" height="12" fill="{RECEIVED}"/>'
        f'<text x="{LEFT + 18}" y="{legend_y}" font-size="12">{escape(received)}</text>'
        f'<rect x="{LEFT + 180}" y="{legend_y - 10}" width="12" height="12" fill="{ANSWERED}"/>'
        f'<text x="{LEFT + 198}" y="{legend_y}" font-size="12">{escape(answered)}</text>'
    )
    parts.append("</svg>")
    # Every text in it went through escape() above.
    return Markup("".join(parts))  # noqa: S704


HELPED = "#3a9a5b"
SHARE_ROW, SHARE_LABEL = 26, 260


def share_chart(rows: list[tuple[str, float | None, int]], *, title: str) -> Markup:
    """Per official, the share of rated answers that helped, as a bar out of 100 %; a row with
    no ratings has no bar and says "—"."""
    height = TOP + SHARE_ROW * max(len(rows), 1) + 8
    plot_w = WIDTH - SHARE_LABEL - RIGHT - 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'class="share-chart" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (name, share, rated) in enumerate(rows):
        y = TOP + i * SHARE_ROW
        parts.append(
            f'<text x="{SHARE_LABEL - 8}" y="{y + 16}" text-anchor="end" font-size="12" '
            f'fill="#333">{escape(name[:40])}</text>'
            f'<rect x="{SHARE_LABEL}" y="{y + 4}" width="{plot_w}" height="16" fill="#eee"/>'
        )
        said = "—" if share is None else f"{round(share * 100)}% ({rated})"
        if share is not None:
            parts.append(
                f'<rect class="bar-helped" x="{SHARE_LABEL}" y="{y + 4}" '
                f'width="{plot_w * share:.1f}" height="16" fill="{HELPED}">'
                f"<title>{escape(name)}: {said}</title></rect>"
            )
        parts.append(
            f'<text x="{SHARE_LABEL + plot_w + 6}" y="{y + 16}" font-size="12" '
            f'fill="#333">{said}</text>'
        )
    parts.append("</svg>")
    # Every text in it went through escape() above.
    return Markup("".join(parts))  # noqa: S704
