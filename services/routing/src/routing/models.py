"""Request bodies of routing's API. Unknown fields are refused, so a typo is a 422 naming it."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from dialog_contracts import Language

OFFICIAL_ID = r"^[a-z0-9-]{2,40}$"
E164 = r"^\+\d{8,15}$"

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Login = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
OfficialId = Annotated[str, StringConstraints(pattern=OFFICIAL_ID)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class LocalizedText(_Body):
    kk: Text
    ru: Text


class Deputy(_Body):
    deputy_id: OfficialId
    from_: date = Field(alias="from")
    to: date


class _OfficialFields(_Body):
    by: Login | None = None


class OfficialCreate(_OfficialFields):
    id: OfficialId
    full_name: LocalizedText
    position: LocalizedText
    competence: LocalizedText
    department: LocalizedText
    supervisor_id: OfficialId | None = None
    phone: Annotated[str, StringConstraints(pattern=E164)] | None = None
    language: Language = "ru"
    active: bool = True
    deputy: Deputy | None = None


class OfficialUpdate(_OfficialFields):
    """Any subset of the fields; `deputy: null` clears the deputy, `supervisor_id: null` too."""

    full_name: LocalizedText | None = None
    position: LocalizedText | None = None
    competence: LocalizedText | None = None
    department: LocalizedText | None = None
    supervisor_id: OfficialId | None = None
    phone: Annotated[str, StringConstraints(pattern=E164)] | None = None
    language: Language | None = None
    active: bool | None = None
    deputy: Deputy | None = None


class Opened(_Body):
    by: Login


class Forward(_Body):
    to_official_id: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    reason: Reason
    by: Login


class Subject(_Body):
    """What a case is about, set on the dashboard: a topic of its admin-managed list (the
    dashboard checks it is one) and a one-line summary, both for triage and statistics."""

    topic: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,40}$")] | None = None
    summary: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    by: Login


class Extend(_Body):
    legal_deadline: date
    control_date: date | None = None
    reason: Reason
    by: Login


class Hold(_Body):
    """A legal hold: the case outlives its storage period until lifted (a court, a complaint)."""

    reason: Reason
    by: Login


class Release(_Body):
    reason: Reason
    by: Login


# "open" (new or in progress) is the inbox's default view; the others as in the contract.
CaseStatus = Literal["new", "in_progress", "answered", "overdue", "open"]
Due = Literal["soon", "overdue"]
CaseSort = Literal["control_date", "-control_date", "recorded_at", "-recorded_at"]


class Confirm(_Body):
    note: Reason
    by: Login


class FollowUp(_Body):
    note: Reason = ""
    by: Login
