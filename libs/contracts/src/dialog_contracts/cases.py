"""Events of case handling: answers and deadlines."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

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
