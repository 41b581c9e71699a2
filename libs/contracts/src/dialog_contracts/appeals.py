"""Events of the appeal's intake and routing."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from .common import Category, Language
from .envelope import EventData


class VideoRef(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    key: str
    duration_s: float = Field(ge=0)
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    content_type: str = "video/webm"


class AppealRecorded(EventData):
    TYPE: ClassVar[str] = "kz.dialog.appeal.recorded.v1"
    ROUTING_KEY: ClassVar[str] = "appeal.recorded"

    appeal_id: str
    registration_number: str
    kiosk_id: str
    official_id: str
    category: Category
    language: Language
    phone: str = Field(pattern=r"^\+\d{8,15}$", description="E.164")
    recorded_at: datetime
    control_date: date
    legal_deadline: date
    video: VideoRef

    def subject(self) -> str:
        return self.appeal_id


class AppealRouted(EventData):
    TYPE: ClassVar[str] = "kz.dialog.appeal.routed.v1"
    ROUTING_KEY: ClassVar[str] = "appeal.routed"

    appeal_id: str
    registration_number: str
    official_id: str = Field(description="who handles the case (the addressee or an acting deputy)")
    addressed_official_id: str = Field(description="whom the citizen chose")
    language: Language
    control_date: date
    legal_deadline: date
    routed_at: datetime

    def subject(self) -> str:
        return self.appeal_id
