"""Events of the officials directory, published by routing for the read models of others.

Two events so the SMS phone cannot reach the booth by construction: `OfficialChanged` (public
fields and the photo) is bound to kiosk-gateway only, `OfficialContactChanged` (phone, language)
to notifier only. `version` grows with every change of one official, so a consumer keeps the
newest it has seen whatever order redeliveries arrive in.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from .common import Language, Localized
from .envelope import EventData

MAX_PHOTO_BYTES = 2 * 1024 * 1024


class DeputyWindow(BaseModel):
    # On the wire as "from", the word routing's API uses; `from_` in Python.
    model_config = ConfigDict(
        extra="ignore", frozen=True, validate_by_name=True, serialize_by_alias=True
    )

    deputy_id: str
    from_: date = Field(alias="from")
    to: date

    def covers(self, day: date) -> bool:
        return self.from_ <= day <= self.to


class Photo(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    etag: str
    content_type: str
    # Base64; photos change rarely, and the booth must show them with routing stopped.
    data: str | None = Field(default=None, max_length=MAX_PHOTO_BYTES * 4 // 3 + 4)


class OfficialChanged(EventData):
    TYPE: ClassVar[str] = "kz.dialog.official.changed.v1"
    ROUTING_KEY: ClassVar[str] = "official.changed"

    official_id: str
    version: int = Field(ge=1)
    order: int = 0
    full_name: Localized
    position: Localized
    competence: Localized
    department: Localized | None = None
    supervisor_id: str | None = None
    language: Language = "ru"
    active: bool = True
    deputy: DeputyWindow | None = None
    photo: Photo | None = None

    def subject(self) -> str:
        return self.official_id


class OfficialContactChanged(EventData):
    TYPE: ClassVar[str] = "kz.dialog.official.contact-changed.v1"
    ROUTING_KEY: ClassVar[str] = "official.contact-changed"

    official_id: str
    version: int = Field(ge=1)
    phone: str | None = Field(default=None, pattern=r"^\+\d{8,15}$", description="E.164")
    language: Language = "ru"
    active: bool = True
    full_name: Localized
    supervisor_id: str | None = None

    def subject(self) -> str:
        return self.official_id


def acting_deputy_id(deputy: DeputyWindow | dict[str, object] | None, day: date) -> str | None:
    """The deputy covering `day` (both dates inclusive), if any; stored windows hold ISO dates."""
    if not deputy:
        return None
    if isinstance(deputy, dict):
        if str(deputy["from"]) <= day.isoformat() <= str(deputy["to"]):
            return str(deputy["deputy_id"])
        return None
    return deputy.deputy_id if deputy.covers(day) else None
