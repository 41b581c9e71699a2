"""The bus topology: one durable topic exchange, one durable quorum queue per consumer and event.

Every process declares the whole static topology at start, so an event published before its
consumer has ever run waits in the consumer's queue instead of being unroutable.
"""

from __future__ import annotations

from dataclasses import dataclass

from .appeals import AppealRecorded, AppealRouted
from .applicants import ApplicantIdentified
from .booths import KioskHealthChanged, PrinterStatusReported
from .cases import (
    AnswerPosted,
    AppealExtended,
    AppealForwarded,
    AppealOverdue,
    DeadlineApproaching,
)
from .directory import OfficialChanged, OfficialContactChanged
from .envelope import EventData
from .ratings import AnswerConfirmed, AnswerRated, FollowUpRequested
from .receipts import ReceiptFailed, ReceiptPrinted, ReceiptRequested
from .reference import ReferenceEntryChanged, ReferencePrintRequested
from .retention import AppealExpired

EVENTS: tuple[type[EventData], ...] = (
    AppealRecorded,
    ReceiptRequested,
    ReceiptPrinted,
    ReceiptFailed,
    AppealRouted,
    AnswerPosted,
    DeadlineApproaching,
    AppealOverdue,
    AppealForwarded,
    AppealExtended,
    OfficialChanged,
    OfficialContactChanged,
    ApplicantIdentified,
    PrinterStatusReported,
    KioskHealthChanged,
    AppealExpired,
    ReferenceEntryChanged,
    ReferencePrintRequested,
    AnswerRated,
    FollowUpRequested,
    AnswerConfirmed,
)

EVENTS_BY_TYPE: dict[str, type[EventData]] = {e.TYPE: e for e in EVENTS}


def exchange_name(namespace: str) -> str:
    return f"{namespace}.events"


def event_slug(event: type[EventData]) -> str:
    """`appeal.recorded` → `appeal-recorded`, used in queue names."""
    return event.ROUTING_KEY.replace(".", "-")


def queue_name(namespace: str, consumer: str, event: type[EventData], suffix: str = "") -> str:
    base = f"{consumer}.{event_slug(event)}"
    if suffix:
        base = f"{base}.{suffix}"
    return base if namespace == "dialog" else f"{namespace}.{base}"


@dataclass(frozen=True)
class Binding:
    consumer: str
    event: type[EventData]


# Who consumes what (DESIGN.md §3). Per-kiosk ReceiptRequested queues are declared by the
# gateway for each registered kiosk, not here; ReferencePrintRequested travels in them too.
BINDINGS: tuple[Binding, ...] = (
    Binding("routing", AppealRecorded),
    Binding("notifier", AppealRecorded),
    Binding("dashboard", AppealRecorded),
    Binding("kiosk-gateway", ReceiptPrinted),
    Binding("kiosk-gateway", ReceiptFailed),
    Binding("notifier", ReceiptFailed),
    Binding("notifier", AppealRouted),
    Binding("dashboard", AppealRouted),
    Binding("kiosk-gateway", AnswerPosted),
    Binding("notifier", AnswerPosted),
    Binding("routing", AnswerPosted),
    # The dashboard reads deadlines from routing's cases, so it has no queue for these two.
    Binding("notifier", DeadlineApproaching),
    Binding("notifier", AppealOverdue),
    # The citizen is told of a forward or an extension (APPC); publishing is mandatory, so an
    # event needs a bound queue even before its consumer is written.
    Binding("notifier", AppealForwarded),
    Binding("notifier", AppealExtended),
    # The directory's read models: the public fields to the booth's gateway, the SMS phone to
    # the notifier only.
    Binding("kiosk-gateway", OfficialChanged),
    Binding("notifier", OfficialContactChanged),
    # The citizen's name and IIN: to the officials' dashboard and nowhere else. The dashboard
    # also follows forwards, so a search finds a case for its current handler only.
    Binding("dashboard", ApplicantIdentified),
    Binding("dashboard", AppealForwarded),
    # The storage period is over: each keeper of the citizen's data or videos forgets them.
    Binding("kiosk-gateway", AppealExpired),
    Binding("dashboard", AppealExpired),
    Binding("notifier", AppealExpired),
    Binding("media-store", AppealExpired),
    # Booth health: the printer's state to the gateway, which keeps each booth's health; what
    # changed to the operator's SMS and the dashboard's booth page.
    Binding("kiosk-gateway", PrinterStatusReported),
    Binding("notifier", KioskHealthChanged),
    Binding("dashboard", KioskHealthChanged),
    Binding("dashboard", ReceiptFailed),
    # The reference desk's published entries: to the gateway's read model for the booth and
    # /help. The counts go back by pull (the dashboard asks the gateway), so no queue for them.
    Binding("kiosk-gateway", ReferenceEntryChanged),
    # The citizen's rating (with their own words) to routing, which keeps the case; the
    # dashboard and the booth read the dispute from routing. The two decisions are the
    # citizen's news, so to the notifier only.
    Binding("routing", AnswerRated),
    # And to the dashboard's audit log (the rating, never the comment, is written there).
    Binding("dashboard", AnswerRated),
    Binding("notifier", FollowUpRequested),
    Binding("notifier", AnswerConfirmed),
)
