"""Dialog's shared contracts: event data models, the CloudEvents envelope and the bus topology."""

from .appeals import AppealRecorded, AppealRouted, VideoRef
from .applicants import ApplicantIdentified
from .booths import (
    PRINTER_DOWN,
    HealthChange,
    KioskHealthChanged,
    PrinterState,
    PrinterStatusReported,
)
from .cases import (
    AnswerPosted,
    AppealExtended,
    AppealForwarded,
    AppealOverdue,
    DeadlineApproaching,
)
from .common import Category, Language, Localized
from .directory import (
    DeputyWindow,
    OfficialChanged,
    OfficialContactChanged,
    Photo,
    acting_deputy_id,
)
from .envelope import Envelope, EventData
from .ratings import (
    MAX_COMMENT_CHARS,
    AnswerConfirmed,
    AnswerRated,
    FollowUpRequested,
    RatingReason,
)
from .receipts import ReceiptFailed, ReceiptPrinted, ReceiptRequested, receipt_routing_key
from .reference import Place, ReferenceContent, ReferenceEntryChanged, ReferencePrintRequested
from .retention import AppealExpired
from .topology import BINDINGS, EVENTS, EVENTS_BY_TYPE, Binding, exchange_name, queue_name

__all__ = [
    "BINDINGS",
    "EVENTS",
    "EVENTS_BY_TYPE",
    "MAX_COMMENT_CHARS",
    "PRINTER_DOWN",
    "AnswerConfirmed",
    "AnswerPosted",
    "AnswerRated",
    "AppealExpired",
    "AppealExtended",
    "AppealForwarded",
    "AppealOverdue",
    "AppealRecorded",
    "AppealRouted",
    "ApplicantIdentified",
    "Binding",
    "Category",
    "DeadlineApproaching",
    "DeputyWindow",
    "Envelope",
    "EventData",
    "FollowUpRequested",
    "HealthChange",
    "KioskHealthChanged",
    "Language",
    "Localized",
    "OfficialChanged",
    "OfficialContactChanged",
    "Photo",
    "Place",
    "PrinterState",
    "PrinterStatusReported",
    "RatingReason",
    "ReceiptFailed",
    "ReceiptPrinted",
    "ReceiptRequested",
    "ReferenceContent",
    "ReferenceEntryChanged",
    "ReferencePrintRequested",
    "VideoRef",
    "acting_deputy_id",
    "exchange_name",
    "queue_name",
    "receipt_routing_key",
]
