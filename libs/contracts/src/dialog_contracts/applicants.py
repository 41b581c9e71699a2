"""Who made an appeal: personal data for the officials' dashboard alone.

The booth takes the citizen's full name and IIN; routing, the notifier and the printer do their
jobs without them, so they travel in this event of their own, bound to the dashboard's queue
only (see `topology.BINDINGS`), never in the broadcast AppealRecorded.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from .envelope import EventData


class ApplicantIdentified(EventData):
    TYPE: ClassVar[str] = "kz.dialog.applicant.identified.v1"
    ROUTING_KEY: ClassVar[str] = "applicant.identified"

    appeal_id: str
    registration_number: str
    # repr=False: an event printed in a traceback or a debug line shows neither.
    full_name: str | None = Field(default=None, max_length=200, repr=False)
    iin: str | None = Field(default=None, pattern=r"^\d{12}$", repr=False)

    def subject(self) -> str:
        return self.appeal_id
