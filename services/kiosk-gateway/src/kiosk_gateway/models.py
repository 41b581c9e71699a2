"""The booth API's request and response shapes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dialog_contracts import MAX_COMMENT_CHARS, Category, Language, RatingReason


class OfficialRead(BaseModel):
    id: str
    full_name: dict[str, str]
    position: dict[str, str]
    competence: dict[str, str]
    photo_url: str
    # routing's {deputy_id, full_name{kk,ru}, position{kk,ru}, until} while a deputy covers.
    acting: dict[str, Any] | None = None


class AppealCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    official_id: str = Field(min_length=1, max_length=64)
    phone: str = Field(min_length=1, max_length=32)
    language: Language
    category: Category
    consent: bool
    # The version of the consent text the citizen agreed to (the booth page sends the one it
    # showed); a client that sends none agreed to the current one, the only one served.
    consent_version: str | None = Field(default=None, max_length=20)
    full_name: str | None = Field(default=None, max_length=200)
    iin: str | None = Field(default=None, max_length=20)


class Limits(BaseModel):
    base_duration_s: int
    extension_s: int
    max_duration_s: int
    max_bytes: int
    content_type: Literal["video/webm"] = "video/webm"


class AppealCreated(BaseModel):
    appeal_id: str
    upload_url: str
    submit_url: str
    limits: Limits
    expires_at: datetime


class VideoStored(BaseModel):
    appeal_id: str
    size: int
    duration_s: float
    sha256: str


class AppealSubmitted(BaseModel):
    appeal_id: str
    registration_number: str
    access_code: str
    registered_at: datetime
    control_date: date
    legal_deadline: date
    tracking_url: str


class LookupRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    registration_number: str = Field(min_length=1, max_length=32)
    access_code: str = Field(min_length=1, max_length=16)


class RatingRequest(LookupRequest):
    """The look-up's number and code, and the citizen's rating of the answer they saw."""

    helped: bool
    reason: RatingReason | None = None
    comment: str | None = Field(default=None, max_length=MAX_COMMENT_CHARS)


class RatingRead(BaseModel):
    helped: bool
    reason: RatingReason | None
    comment: str | None
    rated_at: datetime
    changeable_until: datetime
    # False once the window is over: the rating stands and can no longer be changed.
    changeable: bool


class FollowUpRead(BaseModel):
    """What became of a "did not help": under review, a new answer asked for by a date, or
    the answer confirmed with a note to the citizen."""

    state: Literal["open", "follow_up", "confirmed", "withdrawn"]
    control_date: date | None = None
    note: str | None = None


class ReceiptState(BaseModel):
    status: Literal["pending", "printed", "failed"]
    reason: str | None = None


class AnswerRead(BaseModel):
    """The official's current answer (the last correction), as the citizen sees it."""

    text: str
    answered_at: datetime
    video_url: str | None = None


class LookupResult(BaseModel):
    registration_number: str
    # "destroyed": the storage period is over; `notice` says so in both languages.
    status: Literal["registered", "answered", "destroyed"]
    registered_at: datetime
    control_date: date
    legal_deadline: date
    language: Language
    official_id: str
    answer: AnswerRead | None = None
    # The citizen's rating of the answer shown (None: not rated yet) and what followed a "no".
    rating: RatingRead | None = None
    follow_up: FollowUpRead | None = None
    notice: dict[str, str] | None = None


class AppealStatus(BaseModel):
    """What the booth polls after submit: did the receipt print?"""

    appeal_id: str
    status: str
    registration_number: str | None
    receipt: ReceiptState | None


class ReprintQueued(BaseModel):
    registration_number: str
    copy_number: int


KIOSK_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}$"


class KioskCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(pattern=KIOSK_ID_PATTERN)
    location: str = Field(min_length=1, max_length=200)
    center: str | None = Field(default=None, min_length=1, max_length=200)


class KioskRead(BaseModel):
    id: str
    location: str
    center: str | None = None
    revoked: bool
    created_at: datetime
    last_seen_at: datetime | None = None


class KioskIssued(BaseModel):
    id: str
    token: str


class Heartbeat(BaseModel):
    """What the booth page says of itself every minute."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    camera: bool | None = Field(default=None, description="a camera is there and allowed")
    microphone: bool | None = Field(default=None, description="a microphone is there and allowed")
    last_error: str | None = Field(default=None, max_length=300)
    page_version: str = Field(default="", max_length=40)


class BoothStatus(BaseModel):
    """What the booth may offer now: appeals need camera and printer, the look-up neither."""

    appeals: bool
    lookup: bool
    printer_ok: bool
    camera_ok: bool
    printer_state: str


class PrintRequest(BaseModel):
    language: Literal["kk", "ru"]


class Recorded(BaseModel):
    entries: list[Annotated[str, Field(max_length=80)]] = Field(max_length=20)
