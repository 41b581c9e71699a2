"""routing's event consumers."""

from __future__ import annotations

from dialog_contracts import AppealRecorded, Envelope
from dialog_platform.bus import Bus

from .service import Routing

SERVICE = "routing"


def subscribe(bus: Bus, routing: Routing) -> None:
    async def on_recorded(envelope: Envelope) -> None:
        await routing.assign(envelope.parse(AppealRecorded))

    bus.subscribe(SERVICE, AppealRecorded, on_recorded)
