"""routing's event consumers. Both are idempotent: a redelivered event changes nothing twice."""

from __future__ import annotations

from dialog_contracts import AnswerPosted, AppealRecorded, Envelope
from dialog_platform.bus import Bus

from .service import Routing

SERVICE = "routing"


def subscribe(bus: Bus, routing: Routing) -> None:
    async def on_recorded(envelope: Envelope) -> None:
        await routing.assign(envelope.parse(AppealRecorded))

    async def on_answered(envelope: Envelope) -> None:
        await routing.answered(envelope.parse(AnswerPosted))

    bus.subscribe(SERVICE, AppealRecorded, on_recorded)
    bus.subscribe(SERVICE, AnswerPosted, on_answered)
