"""routing's event consumers. Each is idempotent: a redelivered event changes nothing twice."""

from __future__ import annotations

from dialog_contracts import AnswerPosted, AnswerRated, AppealRecorded, Envelope
from dialog_platform.bus import Bus

from .disputes import Disputes
from .service import Routing

SERVICE = "routing"


def subscribe(bus: Bus, routing: Routing, disputes: Disputes) -> None:
    async def on_recorded(envelope: Envelope) -> None:
        await routing.assign(envelope.parse(AppealRecorded))

    async def on_answered(envelope: Envelope) -> None:
        await routing.answered(envelope.parse(AnswerPosted))

    async def on_rated(envelope: Envelope) -> None:
        await disputes.rated(envelope.parse(AnswerRated))

    bus.subscribe(SERVICE, AppealRecorded, on_recorded)
    bus.subscribe(SERVICE, AnswerRated, on_rated)
    bus.subscribe(SERVICE, AnswerPosted, on_answered)
