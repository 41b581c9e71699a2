"""Dialog's shared contracts: event data models, the CloudEvents envelope and the bus topology."""

from .appeals import AppealRecorded, AppealRouted, VideoRef
from .cases import (
    AnswerPosted,
    AppealExtended,
    AppealForwarded,
    AppealOverdue,
    DeadlineApproaching,
)
from .common import Category, Language, Localized
from .envelope import Envelope, EventData
from .receipts import ReceiptFailed, ReceiptPrinted, ReceiptRequested, receipt_routing_key
from .topology import BINDINGS, EVENTS, EVENTS_BY_TYPE, Binding, exchange_name, queue_name

__all__ = [
    "BINDINGS",
    "EVENTS",
    "EVENTS_BY_TYPE",
    "AnswerPosted",
    "AppealExtended",
    "AppealForwarded",
    "AppealOverdue",
    "AppealRecorded",
    "AppealRouted",
    "Binding",
    "Category",
    "DeadlineApproaching",
    "Envelope",
    "EventData",
    "Language",
    "Localized",
    "ReceiptFailed",
    "ReceiptPrinted",
    "ReceiptRequested",
    "VideoRef",
    "exchange_name",
    "queue_name",
    "receipt_routing_key",
]
