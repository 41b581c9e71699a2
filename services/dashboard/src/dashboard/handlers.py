"""dashboard's event consumers: its read model of cases (see casefile.py).

The dashboard reads a case's state from routing's API when a page is shown; what routing does
not have (the citizen's name and IIN) or cannot search by arrives here as events. Deadline
events need no state here; they are consumed so their queues do not grow on a broker.

No handler logs an event's data: the name, IIN and phone are personal data (Law 94-V).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from pydantic import ValidationError

from dialog_contracts import (
    AnswerRated,
    AppealForwarded,
    AppealRecorded,
    AppealRouted,
    ApplicantIdentified,
    Envelope,
    EventData,
    KioskHealthChanged,
    ReceiptFailed,
)
from dialog_platform import documents
from dialog_platform.bus import Bus

from . import booths, casefile
from . import repository as repo

SERVICE = "dashboard"
E = TypeVar("E", bound=EventData)


class EventInvalid(ValueError):
    """An event's data failed its contract. Unlike pydantic's own error, the message names the
    fields only, never their values, since it ends up in logs and in the dead-letter reason."""


def parsed(envelope: Envelope, model: type[E]) -> E:
    try:
        return envelope.parse(model)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
        raise EventInvalid(f"{model.__name__}: invalid {', '.join(fields)}") from None


def subscribe(bus: Bus, db: repo.Db) -> None:
    async def recorded(envelope: Envelope) -> None:
        e = parsed(envelope, AppealRecorded)
        fields = {
            "registration_number": e.registration_number,
            "phone": e.phone,
            "recorded_at": e.recorded_at,
            "language": e.language,
            "video_duration_s": e.video.duration_s,
        }
        await casefile.record(
            db, e.appeal_id, fields, official_id=e.official_id, official_at=e.recorded_at
        )
        await booths.appeal_recorded(db, e)

    async def identified(envelope: Envelope) -> None:
        e = parsed(envelope, ApplicantIdentified)
        fields = {"registration_number": e.registration_number}
        if e.full_name:
            fields["full_name"] = e.full_name
        if e.iin:
            fields["iin"] = e.iin
        await casefile.record(db, e.appeal_id, fields)

    async def handled_by(appeal_id: str, number: str, official_id: str, at: datetime) -> None:
        fields = {"registration_number": number}
        await casefile.record(db, appeal_id, fields, official_id=official_id, official_at=at)

    async def routed(envelope: Envelope) -> None:
        e = parsed(envelope, AppealRouted)
        await handled_by(e.appeal_id, e.registration_number, e.official_id, e.routed_at)

    async def forwarded(envelope: Envelope) -> None:
        e = parsed(envelope, AppealForwarded)
        await handled_by(e.appeal_id, e.registration_number, e.to_official_id, e.forwarded_at)

    async def rated(envelope: Envelope) -> None:
        e = parsed(envelope, AnswerRated)
        # Keyed by the event, so a redelivery writes the same entry again, not a second one.
        # The comment stays out: it is the citizen's own words, kept by routing alone.
        entry = {
            "at": e.rated_at,
            "action": "answer_rated",
            # The action names who: the citizen, who has no login.
            "login": None,
            "role": None,
            "official_id": e.official_id,
            "appeal_id": e.appeal_id,
            "detail": {"helped": e.helped, "reason": e.reason},
            "ip": None,
        }
        await documents.put(db.audit, f"rated:{envelope.id}", entry)

    async def booth_health(envelope: Envelope) -> None:
        await booths.health_changed(db, parsed(envelope, KioskHealthChanged))

    async def receipt_failed(envelope: Envelope) -> None:
        await booths.receipt_failed(db, parsed(envelope, ReceiptFailed))

    handlers: dict[type[EventData], Callable[[Envelope], Awaitable[None]]] = {
        AppealRecorded: recorded,
        ApplicantIdentified: identified,
        AppealRouted: routed,
        AppealForwarded: forwarded,
        AnswerRated: rated,
        KioskHealthChanged: booth_health,
        ReceiptFailed: receipt_failed,
    }
    for event, handler in handlers.items():
        bus.subscribe(SERVICE, event, handler)
