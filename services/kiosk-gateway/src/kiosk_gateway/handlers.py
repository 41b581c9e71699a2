"""kiosk-gateway's event consumers."""

from __future__ import annotations

from dialog_contracts import AnswerPosted, Envelope, ReceiptFailed, ReceiptPrinted
from dialog_platform.bus import Bus

from .lookup import Lookup
from .service import Gateway

SERVICE = "kiosk-gateway"


def subscribe(bus: Bus, gateway: Gateway, lookup: Lookup) -> None:
    async def on_printed(envelope: Envelope) -> None:
        await gateway.receipt_printed(envelope.parse(ReceiptPrinted))

    async def on_failed(envelope: Envelope) -> None:
        await gateway.receipt_failed(envelope.parse(ReceiptFailed))

    async def on_answered(envelope: Envelope) -> None:
        await lookup.answer_posted(envelope.parse(AnswerPosted))

    bus.subscribe(SERVICE, ReceiptPrinted, on_printed)
    bus.subscribe(SERVICE, AnswerPosted, on_answered)
    bus.subscribe(SERVICE, ReceiptFailed, on_failed)
