"""The reference desk's entries, published by the dashboard for the booth's gateway.

The dashboard owns the entries; kiosk-gateway keeps a read model of the published ones for the
booth and /help. `entry` is None while an entry is a draft or withdrawn, so a draft's text never
leaves the dashboard. `version` grows with every change, so the read model keeps the newest
whatever order redeliveries arrive in.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from . import richtext
from .common import Language, Localized
from .envelope import EventData


class Place(BaseModel):
    """Where to apply: every field optional, each in both languages where it is words."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    office: Localized | None = None
    address: Localized | None = None
    hours: Localized | None = None
    phone: str | None = Field(default=None, max_length=40)


class ReferenceContent(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    topic: str | None = None
    topic_name: Localized | None = None
    question: Localized
    answer: Localized = Field(description="richtext markup, never HTML")
    documents: Localized | None = Field(default=None, description="richtext markup")
    place: Place | None = None
    service_url: str | None = Field(default=None, pattern=r"^https://\S{1,500}$")
    officials: list[str] = Field(default_factory=list)
    departments: list[str] = Field(default_factory=list, description="as routing names them, ru")

    @field_validator("answer", "documents")
    @classmethod
    def _bounded(cls, value: Localized | None) -> Localized | None:
        if value is not None and max(len(value.kk), len(value.ru)) > richtext.MAX_CHARS:
            raise ValueError("too long")
        return value


class ReferenceEntryChanged(EventData):
    TYPE: ClassVar[str] = "kz.dialog.reference.entry-changed.v1"
    ROUTING_KEY: ClassVar[str] = "reference.entry-changed"

    entry_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,79}$")
    version: int = Field(ge=1)
    entry: ReferenceContent | None = Field(default=None, description="None: not published")

    def subject(self) -> str:
        return self.entry_id


class ReferencePrintRequested(EventData):
    """An entry printed at the booth where the citizen stands, in the language they read it in.

    Routed like a receipt (`receipt.requested.<kiosk id>`), so it waits in the booth's one print
    queue beside the receipts and costs no queue of its own; the printer-agent tells the two
    apart by the envelope's type.
    """

    TYPE: ClassVar[str] = "kz.dialog.reference.print-requested.v1"
    ROUTING_KEY: ClassVar[str] = "reference.print-requested"

    print_id: str = Field(
        pattern=r"^[0-9a-f]{32}$", description="one sheet; a redelivery prints none"
    )
    kiosk_id: str
    entry_id: str
    language: Language
    center: Localized
    entry: ReferenceContent
    page_url: str = Field(description="the entry's page on /help, for the QR code")

    def routing_key(self) -> str:
        return f"receipt.requested.{self.kiosk_id}"

    def subject(self) -> str:
        return self.entry_id
