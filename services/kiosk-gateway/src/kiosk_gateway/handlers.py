"""kiosk-gateway's event consumers."""

from __future__ import annotations

from dialog_contracts import (
    AnswerPosted,
    AppealExpired,
    Envelope,
    OfficialChanged,
    PrinterStatusReported,
    ReceiptFailed,
    ReceiptPrinted,
    ReferenceEntryChanged,
)
from dialog_platform.bus import Bus

from . import retention
from .directory import DirectoryReplica
from .health import BoothHealth
from .lookup import Lookup
from .reference import ReferenceDesk
from .service import Gateway

SERVICE = "kiosk-gateway"


def subscribe(
    bus: Bus,
    gateway: Gateway,
    lookup: Lookup,
    directory: DirectoryReplica,
    health: BoothHealth,
    desk: ReferenceDesk,
) -> None:
    async def on_printed(envelope: Envelope) -> None:
        await gateway.receipt_printed(envelope.parse(ReceiptPrinted))

    async def on_failed(envelope: Envelope) -> None:
        await gateway.receipt_failed(envelope.parse(ReceiptFailed))

    async def on_answered(envelope: Envelope) -> None:
        await lookup.answer_posted(envelope.parse(AnswerPosted))

    async def on_official(envelope: Envelope) -> None:
        await directory.changed(envelope.parse(OfficialChanged))

    async def on_printer(envelope: Envelope) -> None:
        await health.printer_reported(envelope.parse(PrinterStatusReported))

    async def on_expired(envelope: Envelope) -> None:
        await retention.forget(gateway.db, gateway.outbox, envelope.parse(AppealExpired))

    async def on_reference(envelope: Envelope) -> None:
        await desk.changed(envelope.parse(ReferenceEntryChanged))

    bus.subscribe(SERVICE, ReferenceEntryChanged, on_reference)
    bus.subscribe(SERVICE, AppealExpired, on_expired)
    bus.subscribe(SERVICE, PrinterStatusReported, on_printer)
    bus.subscribe(SERVICE, OfficialChanged, on_official)
    bus.subscribe(SERVICE, ReceiptPrinted, on_printed)
    bus.subscribe(SERVICE, AnswerPosted, on_answered)
    bus.subscribe(SERVICE, ReceiptFailed, on_failed)
