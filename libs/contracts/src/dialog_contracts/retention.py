"""The end of an appeal's storage period: every service forgets the citizen.

Routing owns the case and its closing date, so it alone decides that an appeal has outlived its
period (and is not on legal hold). Each service that keeps the citizen's name, IIN, phone or a
video of the appeal removes them on this event and keeps what the statistics need.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from .envelope import EventData

# What has a storage period of its own: the videos (appeal and answer), and the citizen's name,
# IIN and phone.
RetainedKind = Literal["video", "personal"]


class AppealExpired(EventData):
    TYPE: ClassVar[str] = "kz.dialog.appeal.expired.v1"
    ROUTING_KEY: ClassVar[str] = "appeal.expired"

    appeal_id: str
    registration_number: str
    closed_at: datetime
    expired_at: datetime
    kinds: list[RetainedKind]

    def subject(self) -> str:
        return self.appeal_id
