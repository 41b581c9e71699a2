"""The reference desk's restricted markup: paragraphs, lists and bold, nothing else.

Authors type it in a plain text box; it travels and is stored as typed, and every reader
(the booth, /help, the dashboard's preview, the printer, the speech) parses it with this one
module. No HTML passes through: the renderer escapes every character of the text itself, so
an author's `<script>` is shown as text, never run.

    A blank line separates paragraphs.
    - an item            a bulleted list (also "* ")
    1. an item           a numbered list
    **bold**             bold inside any line
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from typing import Literal

MAX_CHARS = 4_000
_BULLET = re.compile(r"^\s*[-*•]\s+(.*)$")
_NUMBER = re.compile(r"^\s*\d{1,2}[.)]\s+(.*)$")
_BOLD = re.compile(r"\*\*(.+?)\*\*")

Run = tuple[str, bool]  # text, bold


@dataclass(frozen=True)
class Block:
    kind: Literal["p", "ul", "ol"]
    lines: tuple[tuple[Run, ...], ...]  # a paragraph's lines, or a list's items


def _runs(line: str) -> tuple[Run, ...]:
    runs: list[Run] = []
    at = 0
    for m in _BOLD.finditer(line):
        if m.start() > at:
            runs.append((line[at : m.start()], False))
        runs.append((m.group(1), True))
        at = m.end()
    if at < len(line):
        runs.append((line[at:], False))
    return tuple(runs)


def parse(text: str) -> list[Block]:
    blocks: list[Block] = []
    kind: Literal["p", "ul", "ol"] | None = None
    lines: list[tuple[Run, ...]] = []

    def close() -> None:
        nonlocal kind, lines
        if kind and lines:
            blocks.append(Block(kind, tuple(lines)))
        kind, lines = None, []

    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if not line:
            close()
            continue
        bullet, number = _BULLET.match(line), _NUMBER.match(line)
        this: Literal["p", "ul", "ol"] = "ul" if bullet else "ol" if number else "p"
        content = (bullet or number).group(1) if (bullet or number) else line  # type: ignore[union-attr]
        if this != kind:
            close()
            kind = this
        lines.append(_runs(content))
    close()
    return blocks


def _html_runs(runs: tuple[Run, ...]) -> str:
    return "".join(f"<strong>{escape(t)}</strong>" if b else escape(t) for t, b in runs)


def to_html(text: str) -> str:
    """Escaped HTML of the markup: only <p>, <br>, <ul>, <ol>, <li> and <strong> are made."""
    out: list[str] = []
    for block in parse(text):
        if block.kind == "p":
            out.append("<p>" + "<br>".join(_html_runs(r) for r in block.lines) + "</p>")
        else:
            items = "".join(f"<li>{_html_runs(r)}</li>" for r in block.lines)
            out.append(f"<{block.kind}>{items}</{block.kind}>")
    return "".join(out)


def to_lines(text: str) -> list[tuple[str, bool]]:
    """Plain lines for the printer and the speech: (line, bold); items keep a "•" or "1.";
    an empty line stands between blocks."""
    out: list[tuple[str, bool]] = []
    for block in parse(text):
        if out:
            out.append(("", False))
        for n, runs in enumerate(block.lines, 1):
            plain = "".join(t for t, _ in runs)
            bold = bool(runs) and all(b for _, b in runs)
            prefix = "• " if block.kind == "ul" else f"{n}. " if block.kind == "ol" else ""
            out.append((prefix + plain, bold))
    return out


def to_plain(text: str) -> str:
    return "\n".join(line for line, _ in to_lines(text))
