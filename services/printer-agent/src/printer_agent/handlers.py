"""printer-agent's event consumer: ReceiptRequested for its own booth → print → report."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from dialog_contracts import (
    Envelope,
    ReceiptFailed,
    ReceiptPrinted,
    ReceiptRequested,
    ReferencePrintRequested,
)
from dialog_platform.bus import Bus

from .service import ReceiptPrinter
from .status import StatusReporter

log = logging.getLogger(__name__)

SERVICE = "printer-agent"
SOURCE = "/dialog/printer-agent"


def subscribe(
    bus: Bus,
    printer: ReceiptPrinter,
    *,
    kiosk_id: str,
    clock: Callable[[], datetime],
    reporter: StatusReporter | None = None,
) -> None:
    # One printer, one receipt at a time; the status poller waits for the receipt too.
    lock = reporter.lock if reporter is not None else asyncio.Lock()

    async def on_sheet(envelope: Envelope) -> None:
        sheet = envelope.parse(ReferencePrintRequested)
        if kiosk_id != "*" and sheet.kiosk_id != kiosk_id:
            log.error("reference sheet for another kiosk ignored", extra={"kiosk": sheet.kiosk_id})
            return
        async with lock:
            outcome = await asyncio.to_thread(printer.handle_sheet, sheet)
        # Nobody waits on a reference sheet's outcome: the booth said "printing", and a sheet
        # that failed is printed again by a touch. The printer's state goes out as usual.
        if reporter is not None and not outcome.printed and not outcome.duplicate:
            await reporter.poll()

    async def on_requested(envelope: Envelope) -> None:
        # The booth's one print queue carries receipts and reference sheets.
        if envelope.type == ReferencePrintRequested.TYPE:
            return await on_sheet(envelope)
        receipt = envelope.parse(ReceiptRequested)
        if kiosk_id != "*" and receipt.kiosk_id != kiosk_id:
            log.error("receipt for another kiosk ignored", extra={"kiosk": receipt.kiosk_id})
            return
        async with lock:
            outcome = await asyncio.to_thread(printer.handle, receipt)
        # The outcome is published on a duplicate too: a crash after printing but before
        # reporting must still end with ReceiptPrinted once the message is redelivered.
        if outcome.printed or outcome.duplicate:
            event: ReceiptPrinted | ReceiptFailed = ReceiptPrinted(
                appeal_id=receipt.appeal_id,
                kiosk_id=receipt.kiosk_id,
                copy_number=receipt.copy_number,
                printed_at=clock(),
            )
        else:
            # No retry: the citizen is at the booth now, and the booth shows the number and
            # code on screen when the receipt fails; a receipt printed later helps no one.
            log.warning(
                "receipt failed", extra={"kiosk": receipt.kiosk_id, "reason": outcome.reason}
            )
            event = ReceiptFailed(
                appeal_id=receipt.appeal_id,
                kiosk_id=receipt.kiosk_id,
                copy_number=receipt.copy_number,
                reason=outcome.reason or "unknown",
                failed_at=clock(),
            )
        await bus.publish(Envelope.wrap(event, source=SOURCE), event.routing_key())
        if reporter is not None and not outcome.printed and not outcome.duplicate:
            # The booth shows "out of service" as soon as the gateway hears why, not at the
            # next poll.
            await reporter.poll()

    bus.subscribe(SERVICE, ReceiptRequested, on_requested, key_suffix=kiosk_id)
