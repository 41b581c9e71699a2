"""Events between the gateway and a booth's printer-agent.

ReceiptRequested carries the access code, so it is routed to one kiosk's queue only
(routing key `receipt.requested.<kiosk id>`) and never broadcast.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from pydantic import Field

from .common import Category, Language, Localized
from .envelope import EventData


class ReceiptRequested(EventData):
    TYPE: ClassVar[str] = "kz.dialog.receipt.requested.v1"
    ROUTING_KEY: ClassVar[str] = "receipt.requested"

    appeal_id: str
    kiosk_id: str
    copy_number: int = Field(ge=1, description="1 for the first print, 2+ for reprints")
    registration_number: str
    access_code: str = Field(pattern=r"^\d{8}$")
    language: Language
    category: Category
    recorded_at: datetime
    control_date: date
    center: Localized = Field(description="the service center and booth, as printed")
    official_name: Localized
    official_position: Localized
    tracking_url: str

    def routing_key(self) -> str:
        return receipt_routing_key(self.kiosk_id)

    def subject(self) -> str:
        return self.appeal_id


def receipt_routing_key(kiosk_id: str) -> str:
    return f"{ReceiptRequested.ROUTING_KEY}.{kiosk_id}"


class ReceiptPrinted(EventData):
    TYPE: ClassVar[str] = "kz.dialog.receipt.printed.v1"
    ROUTING_KEY: ClassVar[str] = "receipt.printed"

    appeal_id: str
    kiosk_id: str
    copy_number: int = Field(ge=1)
    printed_at: datetime

    def subject(self) -> str:
        return self.appeal_id


class ReceiptFailed(EventData):
    TYPE: ClassVar[str] = "kz.dialog.receipt.failed.v1"
    ROUTING_KEY: ClassVar[str] = "receipt.failed"

    appeal_id: str
    kiosk_id: str
    copy_number: int = Field(ge=1)
    reason: str
    failed_at: datetime

    def subject(self) -> str:
        return self.appeal_id
