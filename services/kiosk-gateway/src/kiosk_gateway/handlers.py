"""kiosk-gateway's event consumers."""

from __future__ import annotations

from dialog_contracts import (
    AnswerPosted,
    Envelope,
    OfficialChanged,
    ReceiptFailed,
    ReceiptPrinted,
)
from dialog_platform.bus import Bus

from .directory import DirectoryReplica
from .lookup import Lookup
from .service import Gateway

SERVICE = "kiosk-gateway"


def subscribe(bus: Bus, gateway: Gateway, lookup: Lookup, directory: DirectoryReplica) -> None:
    async def on_printed(envelope: Envelope) -> None:
        await gateway.receipt_printed(envelope.parse(ReceiptPrinted))

    async def on_failed(envelope: Envelope) -> None:
        await gateway.receipt_failed(envelope.parse(ReceiptFailed))

    async def on_answered(envelope: Envelope) -> None:
        await lookup.answer_posted(envelope.parse(AnswerPosted))

    async def on_official(envelope: Envelope) -> None:
        await directory.changed(envelope.parse(OfficialChanged))

    bus.subscribe(SERVICE, OfficialChanged, on_official)
    bus.subscribe(SERVICE, ReceiptPrinted, on_printed)
    bus.subscribe(SERVICE, AnswerPosted, on_answered)
    bus.subscribe(SERVICE, ReceiptFailed, on_failed)
