"""notifier's event consumers: each event becomes the SMS the design promises."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any, Protocol

from dialog_contracts import (
    AnswerConfirmed,
    AnswerPosted,
    AppealExpired,
    AppealExtended,
    AppealForwarded,
    AppealOverdue,
    AppealRecorded,
    AppealRouted,
    DeadlineApproaching,
    Envelope,
    FollowUpRequested,
    KioskHealthChanged,
    OfficialContactChanged,
    ReceiptFailed,
)
from dialog_platform.bus import Bus
from dialog_platform.calendar import ALMATY
from dialog_platform.faults import Transient
from dialog_platform.replica import Replica, Row, Snapshot

from . import repository as repo
from .service import Notifier, Outgoing, day_month_year, short_url
from .settings import NotifierSettings

log = logging.getLogger(__name__)

# The printer's state in the operator's words.
PRINTER_WORDS: dict[str, dict[str, str]] = {
    "out_of_paper": {"kk": "қағаз бітті", "ru": "нет бумаги"},
    "cover_open": {"kk": "қақпағы ашық", "ru": "открыта крышка"},
    "offline": {"kk": "өшірулі", "ru": "отключён"},
}


class CaseEvent(Protocol):
    """What every event about a case carries that an SMS about it names."""

    @property
    def appeal_id(self) -> str: ...

    @property
    def registration_number(self) -> str: ...


SERVICE = "notifier"
COLLECTION = "officials"


class Contacts(Replica[OfficialContactChanged]):
    """The officials' SMS contacts, notifier's own read model of routing's directory.

    Filled from OfficialContactChanged and routing's snapshot; an SMS never waits on routing.
    """

    collection_name = COLLECTION
    event = OfficialContactChanged
    source = Snapshot(
        "/api/v1/directory/snapshot", "officials", params={"audience": "contact"}, timeout_s=30.0
    )

    def row(self, event: OfficialContactChanged) -> Row:
        return event.official_id, event.version, _fields(event)

    async def official(self, official_id: str) -> dict[str, Any] | None:
        return await self.collection.find_one({"_id": official_id})


def _fields(event: OfficialContactChanged) -> dict[str, Any]:
    return {
        "phone": event.phone,
        "language": event.language,
        "active": event.active,
        "supervisor_id": event.supervisor_id,
        "full_name": event.full_name.model_dump(),
    }


def subscribe(
    bus: Bus, notifier: Notifier, contacts: Contacts, settings: NotifierSettings, public_url: str
) -> None:
    dashboard = short_url(settings.dashboard_url or f"{public_url}/dashboard")
    tracking = short_url(settings.tracking_url or f"{public_url}/track")

    async def official_sms(
        event: CaseEvent,
        official_id: str | None,
        purpose: str,
        due: date,
        *,
        occasion: str,
        urgent: bool = False,
        due_field: str = "deadline",
    ) -> None:
        """Every SMS to an official names the case, its date and the way to the dashboard."""
        if not official_id:
            return
        contact = await contacts.official(official_id)
        if contact is None:
            # Not in the read model yet: its OfficialContactChanged (or the snapshot) is on the
            # way, so the bus waits for it rather than the SMS being dropped.
            raise Transient(f"official {official_id} not in the directory read model yet")
        if not contact.get("phone"):
            log.warning("official has no SMS phone", extra={"official": official_id})
            return
        fields = {
            "number": event.registration_number,
            due_field: day_month_year(due),
            "dashboard": dashboard,
        }
        await notifier.notify(
            Outgoing(
                appeal_id=event.appeal_id,
                purpose=purpose,
                phone=contact["phone"],
                language=contact.get("language", "ru"),
                fields=fields,
                to_official=True,
                urgent=urgent,
                occasion=occasion,
            )
        )

    async def citizen_sms(
        event: CaseEvent,
        purpose: str,
        *,
        occasion: str,
        deadline: date | None = None,
        with_tracking: bool = False,
    ) -> None:
        """An SMS to the citizen names the case, and a new date or the tracking page if any."""
        citizen = await repo.citizen(notifier.db, appeal_id=event.appeal_id)
        if citizen is None:
            # AppealRecorded carries the phone; without it there is no one to tell yet.
            raise LookupError(f"no citizen contact for appeal {event.appeal_id}")
        fields = {"number": event.registration_number}
        if deadline is not None:
            fields["deadline"] = day_month_year(deadline)
        if with_tracking:
            fields["tracking"] = tracking
        await notifier.notify(
            Outgoing(
                appeal_id=event.appeal_id,
                purpose=purpose,
                phone=citizen["phone"],
                language=citizen["language"],
                fields=fields,
                occasion=occasion,
            )
        )

    async def on_recorded(envelope: Envelope) -> None:
        event = envelope.parse(AppealRecorded)
        await repo.save_citizen(
            notifier.db,
            appeal_id=event.appeal_id,
            contact={
                "phone": event.phone,
                "language": event.language,
                "registration_number": event.registration_number,
            },
        )
        if settings.notify_citizen_on_record:
            await notifier.notify(
                Outgoing(
                    appeal_id=event.appeal_id,
                    purpose="appeal_recorded",
                    phone=event.phone,
                    language=event.language,
                    fields={
                        "number": event.registration_number,
                        "control_date": day_month_year(event.control_date),
                        "tracking": tracking,
                    },
                )
            )

    async def on_routed(envelope: Envelope) -> None:
        event = envelope.parse(AppealRouted)
        await official_sms(
            event,
            event.official_id,
            "appeal_routed",
            event.control_date,
            due_field="control_date",
            # A case forwarded away and back again is news to its official the second time.
            occasion=event.routed_at.isoformat(),
        )

    async def on_answered(envelope: Envelope) -> None:
        event = envelope.parse(AnswerPosted)
        await citizen_sms(
            event,
            "answer_posted",
            with_tracking=True,
            # A correction is no news (once per round); a follow-up's new answer is.
            occasion="" if event.round == 1 else f"round-{event.round}",
        )

    async def on_follow_up(envelope: Envelope) -> None:
        event = envelope.parse(FollowUpRequested)
        occasion = f"round-{event.round}"
        await citizen_sms(
            event, "follow_up_requested", deadline=event.control_date, occasion=occasion
        )
        # The official has the case back in the inbox, with a date: told like a new case.
        await official_sms(
            event, event.official_id, "follow_up_official", event.control_date, occasion=occasion
        )

    async def on_confirmed(envelope: Envelope) -> None:
        event = envelope.parse(AnswerConfirmed)
        await citizen_sms(
            event, "answer_confirmed", with_tracking=True, occasion=event.confirmed_at.isoformat()
        )

    async def on_forwarded(envelope: Envelope) -> None:
        # APPC: an appeal redirected to another body or official is notified to the applicant.
        event = envelope.parse(AppealForwarded)
        await citizen_sms(event, "appeal_forwarded", occasion=event.forwarded_at.isoformat())

    async def on_extended(envelope: Envelope) -> None:
        event = envelope.parse(AppealExtended)
        await citizen_sms(
            event,
            "appeal_extended",
            deadline=event.legal_deadline,
            occasion=event.legal_deadline.isoformat(),
        )

    async def on_receipt_failed(envelope: Envelope) -> None:
        event = envelope.parse(ReceiptFailed)
        if not settings.operator_phone:
            log.warning(
                "receipt failed and no operator phone is set", extra={"kiosk": event.kiosk_id}
            )
            return
        await notifier.notify(
            Outgoing(
                appeal_id=event.appeal_id,
                purpose="receipt_failed",
                phone=settings.operator_phone,
                language=settings.operator_language,
                fields={"kiosk": event.kiosk_id, "reason": event.reason[:40]},
            )
        )

    async def on_kiosk_health(envelope: Envelope) -> None:
        event = envelope.parse(KioskHealthChanged)
        if not event.changes:
            return
        phone = settings.operator_phones.get(event.center) or settings.operator_phone
        if not phone:
            log.warning(
                "booth health changed and no operator phone is set",
                extra={"kiosk": event.kiosk_id},
            )
            return
        language = settings.operator_language
        local = ALMATY
        for change in event.changes:
            words = PRINTER_WORDS.get(change.detail) or PRINTER_WORDS["offline"]
            # Once per occurrence, the problem's start naming it; its recovery is another
            # purpose of the same occurrence, so a redelivered event sends neither twice.
            await notifier.notify(
                Outgoing(
                    appeal_id=f"kiosk:{event.kiosk_id}",
                    purpose=f"kiosk_{change.condition}{'_ok' if change.ok else ''}",
                    phone=phone,
                    language=language,
                    fields={
                        "kiosk": event.kiosk_id,
                        "since": change.since.astimezone(local).strftime("%d.%m %H:%M"),
                        "state": words[language],
                    },
                    occasion=change.since.isoformat(),
                )
            )

    async def on_approaching(envelope: Envelope) -> None:
        event = envelope.parse(DeadlineApproaching)
        occasion = f"{event.kind}:{event.deadline.isoformat()}"
        await official_sms(
            event, event.official_id, "deadline_approaching", event.deadline, occasion=occasion
        )

    async def on_overdue(envelope: Envelope) -> None:
        event = envelope.parse(AppealOverdue)
        # A missed deadline counts as a refusal in law: tell them now, quiet hours or not.
        occasion = f"{event.kind}:{event.deadline.isoformat()}"
        for official_id, purpose in (
            (event.official_id, "appeal_overdue"),
            (event.supervisor_id, "appeal_overdue_supervisor"),
        ):
            await official_sms(
                event, official_id, purpose, event.deadline, urgent=True, occasion=occasion
            )

    async def on_contact(envelope: Envelope) -> None:
        await contacts.changed(envelope.parse(OfficialContactChanged))

    async def on_expired(envelope: Envelope) -> None:
        event = envelope.parse(AppealExpired)
        if "personal" in event.kinds:
            await repo.forget_citizen(notifier.db, appeal_id=event.appeal_id, now=notifier.clock())

    bus.subscribe(SERVICE, AppealExpired, on_expired)
    bus.subscribe(SERVICE, OfficialContactChanged, on_contact)
    bus.subscribe(SERVICE, AppealRecorded, on_recorded)
    bus.subscribe(SERVICE, AppealRouted, on_routed)
    bus.subscribe(SERVICE, AnswerPosted, on_answered)
    bus.subscribe(SERVICE, ReceiptFailed, on_receipt_failed)
    bus.subscribe(SERVICE, KioskHealthChanged, on_kiosk_health)
    bus.subscribe(SERVICE, DeadlineApproaching, on_approaching)
    bus.subscribe(SERVICE, AppealOverdue, on_overdue)
    bus.subscribe(SERVICE, AppealForwarded, on_forwarded)
    bus.subscribe(SERVICE, AppealExtended, on_extended)
    bus.subscribe(SERVICE, FollowUpRequested, on_follow_up)
    bus.subscribe(SERVICE, AnswerConfirmed, on_confirmed)
