"""Events of case handling: answers, deadlines, forwarding and extensions."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import Field

from .common import Language
from .envelope import EventData

DeadlineKind = Literal["control", "legal"]


class AnswerPosted(EventData):
    TYPE: ClassVar[str] = "kz.dialog.answer.posted.v1"
    ROUTING_KEY: ClassVar[str] = "answer.posted"

    appeal_id: str
    registration_number: str
    official_id: str
    answered_at: datetime
    has_video: bool
    # 1 for the first answer and its corrections; n for the answer after the (n-1)th follow-up,
    # which the citizen is told of again.
    round: int = Field(default=1, ge=1)

    def subject(self) -> str:
        return self.appeal_id


class DeadlineApproaching(EventData):
    TYPE: ClassVar[str] = "kz.dialog.deadline.approaching.v1"
    ROUTING_KEY: ClassVar[str] = "deadline.approaching"

    appeal_id: str
    registration_number: str
    official_id: str
    supervisor_id: str | None
    deadline: date
    kind: DeadlineKind

    def subject(self) -> str:
        return self.appeal_id


class AppealOverdue(EventData):
    TYPE: ClassVar[str] = "kz.dialog.appeal.overdue.v1"
    ROUTING_KEY: ClassVar[str] = "appeal.overdue"

    appeal_id: str
    registration_number: str
    official_id: str
    supervisor_id: str | None
    deadline: date
    kind: DeadlineKind

    def subject(self) -> str:
        return self.appeal_id


class AppealForwarded(EventData):
    """A case moved to another official (e.g. outside the first one's competence).

    The reason stays in routing's case history: no free text travels in a broadcast event.
    """

    TYPE: ClassVar[str] = "kz.dialog.appeal.forwarded.v1"
    ROUTING_KEY: ClassVar[str] = "appeal.forwarded"

    appeal_id: str
    registration_number: str
    from_official_id: str
    to_official_id: str
    language: Language
    forwarded_at: datetime

    def subject(self) -> str:
        return self.appeal_id


class AppealExtended(EventData):
    """A reasoned extension of the legal deadline (APPC: the citizen must be told)."""

    TYPE: ClassVar[str] = "kz.dialog.appeal.extended.v1"
    ROUTING_KEY: ClassVar[str] = "appeal.extended"

    appeal_id: str
    registration_number: str
    official_id: str
    language: Language
    control_date: date
    legal_deadline: date
    extended_at: datetime

    def subject(self) -> str:
        return self.appeal_id
