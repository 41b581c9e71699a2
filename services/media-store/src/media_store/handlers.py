"""media-store's event consumer: the end of an appeal's storage period. Idempotent."""

from __future__ import annotations

from dialog_contracts import AppealExpired, Envelope
from dialog_platform.bus import Bus

from .service import MediaService

SERVICE = "media-store"


def subscribe(bus: Bus, service: MediaService) -> None:
    async def on_expired(envelope: Envelope) -> None:
        event = envelope.parse(AppealExpired)
        if "video" in event.kinds:
            # An object store that is down raises a transient error: the bus waits it out.
            await service.forget_appeal(event.appeal_id)

    bus.subscribe(SERVICE, AppealExpired, on_expired)
