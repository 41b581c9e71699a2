"""Events of the citizen's rating of an answer and of what follows a "did not help"."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import Field

from .common import Language
from .envelope import EventData

RatingReason = Literal["not_answered", "unclear", "late", "other"]
MAX_COMMENT_CHARS = 500


class AnswerRated(EventData):
    """The citizen said whether the answer helped (a later rating replaces an earlier one).

    The comment is the citizen's own words: routing keeps it with the case and shows it to the
    supervisor and the control office; the dashboard audits the rating and drops the comment
    (see the topology). No other service is bound to it.
    """

    TYPE: ClassVar[str] = "kz.dialog.answer.rated.v1"
    ROUTING_KEY: ClassVar[str] = "answer.rated"

    appeal_id: str
    registration_number: str
    official_id: str
    language: Language
    helped: bool
    reason: RatingReason | None = None
    comment: str | None = Field(default=None, max_length=MAX_COMMENT_CHARS)
    # Which answer was rated: a follow-up's new answer is rated on its own.
    answered_at: datetime
    rated_at: datetime

    def subject(self) -> str:
        return self.appeal_id


class FollowUpRequested(EventData):
    """The supervisor or the control office asked the official for a new answer."""

    TYPE: ClassVar[str] = "kz.dialog.follow-up.requested.v1"
    ROUTING_KEY: ClassVar[str] = "follow-up.requested"

    appeal_id: str
    registration_number: str
    official_id: str
    language: Language
    control_date: date
    round: int = Field(ge=2)
    requested_at: datetime

    def subject(self) -> str:
        return self.appeal_id


class AnswerConfirmed(EventData):
    """The supervisor or the control office upheld the answer; their note to the citizen stays
    in routing's case (no free text in a broadcast event)."""

    TYPE: ClassVar[str] = "kz.dialog.answer.confirmed.v1"
    ROUTING_KEY: ClassVar[str] = "answer.confirmed"

    appeal_id: str
    registration_number: str
    official_id: str
    language: Language
    confirmed_at: datetime

    def subject(self) -> str:
        return self.appeal_id
