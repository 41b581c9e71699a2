"""What an ESC/POS printer says about itself: DLE EOT real-time status queries and their replies.

Epson ESC/POS: each query is answered with one byte; these read those bytes into a `PrinterState`
and a short reason for people. No I/O here: the caller sends the queries.
"""

from __future__ import annotations

from collections.abc import Callable

from dialog_contracts.booths import PrinterState

# DLE EOT n real-time status queries and the bits of their one-byte replies (Epson ESC/POS).
STATUS_PRINTER = b"\x10\x04\x01"
STATUS_OFFLINE_CAUSE = b"\x10\x04\x02"
STATUS_PAPER = b"\x10\x04\x04"
_OFFLINE = 0x08
_COVER_OPEN = 0x04
_PAPER_END_STOP = 0x20
_ERROR = 0x40
_PAPER_END = 0x60
_PAPER_NEAR_END = 0x0C


def status_byte(reply: bytes) -> int | None:
    """The status byte of a reply, or None when the reply is not one.

    Per ESC/POS a status byte always has bit 4 set and bit 7 clear; anything else is not an
    answer (e.g. a forwarder that echoes or a printer in another mode).
    """
    if not reply or reply[-1] & 0x90 != 0x10:
        return None
    return reply[-1]


def paper_state(paper: int, who: str) -> tuple[PrinterState, str]:
    """The state the paper sensors' byte (DLE EOT 4) tells on its own."""
    if paper & _PAPER_END == _PAPER_END:
        return "out_of_paper", f"{who}: out of paper"
    if paper & _PAPER_NEAR_END:
        return "paper_near_end", f"{who}: paper near end"
    return "ready", f"{who}: ready"


def printer_status(ask: Callable[[bytes], int | None], who: str) -> tuple[PrinterState, str]:
    """The printer's state from its replies; `ask` sends one query and returns its status byte.

    Silence to the paper query means "unknown" (not every printer or connection answers).
    """
    paper = ask(STATUS_PAPER)
    if paper is None:
        return "unknown", f"{who}: does not report its status"
    if paper & _PAPER_END == _PAPER_END:
        return "out_of_paper", f"{who}: out of paper"
    printer = ask(STATUS_PRINTER)
    if printer is not None and printer & _OFFLINE:
        cause = ask(STATUS_OFFLINE_CAUSE) or 0
        if cause & _COVER_OPEN:
            return "cover_open", f"{who}: cover open"
        if cause & _PAPER_END_STOP:
            return "out_of_paper", f"{who}: out of paper"
        if cause & _ERROR:
            return "offline", f"{who}: printer error (jam or cutter), offline"
        return "offline", f"{who}: offline"
    return paper_state(paper, who)
