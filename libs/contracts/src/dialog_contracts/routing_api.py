"""The terms of routing's internal cases API, spoken by routing and by the services calling it.

Each action on a case is a body model that knows its own path segment (`POST
/api/v1/cases/{appeal_id}/<action>`), so routing mounts and a client calls the same list. Bodies
refuse unknown fields: a typo is a 422 naming it, not a field silently dropped. `by` is the login
of the person a service acts for.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, ClassVar, Literal, get_args
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

CASES_PATH = "/api/v1/cases"
OFFICIAL_ID = r"^[a-z0-9-]{2,40}$"
TOPIC_ID = r"^[a-z0-9-]{1,40}$"
MAX_REASON_CHARS = 2000

Login = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_REASON_CHARS)]

# "open" (new or in progress) is the inbox's default view; the others are a case's states.
CaseStatus = Literal["new", "in_progress", "answered", "overdue", "open"]
Due = Literal["soon", "overdue"]
CaseSort = Literal["control_date", "-control_date", "recorded_at", "-recorded_at"]
CASE_STATES: tuple[str, ...] = tuple(s for s in get_args(CaseStatus) if s != "open")
DUE_FILTERS: tuple[str, ...] = get_args(Due)
CASE_SORTS: tuple[str, ...] = get_args(CaseSort)
MAX_PAGE = 200


class CaseQuery(BaseModel):
    """The query parameters of `GET /api/v1/cases` (a page of cases, `after` the cursor)."""

    official_id: str | None = None
    status: CaseStatus | None = None
    department: Annotated[str | None, Field(max_length=500)] = None
    due: Due | None = None
    sort: CaseSort = "control_date"
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 50
    after: Annotated[str | None, Field(max_length=1000)] = None
    topic: Annotated[str | None, Field(max_length=40)] = None

    def params(self) -> dict[str, str | int]:
        """As a client sends them: the unset ones left out."""
        return self.model_dump(exclude_none=True)


class CaseAction(BaseModel):
    """A change to a case a service asks routing for, posted to `<case>/<action>`."""

    model_config = ConfigDict(extra="forbid")
    action: ClassVar[str]

    by: Login


class Opened(CaseAction):
    action = "opened"


class Forward(CaseAction):
    action = "forward"
    to_official_id: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    reason: Reason


class Subject(CaseAction):
    """What a case is about, set on the dashboard: a topic of its admin-managed list (the
    dashboard checks it is one) and a one-line summary, both for triage and statistics."""

    action = "subject"
    topic: Annotated[str, StringConstraints(pattern=TOPIC_ID)] | None = None
    summary: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""


class Extend(CaseAction):
    action = "extend"
    legal_deadline: date
    control_date: date | None = None
    reason: Reason


class Hold(CaseAction):
    """A legal hold: the case outlives its storage period until lifted (a court, a complaint)."""

    action = "hold"
    reason: Reason


class Release(CaseAction):
    action = "release"
    reason: Reason


class Confirm(CaseAction):
    """The supervisor confirms a disputed answer, with a note to the citizen."""

    action = "confirm"
    note: Reason


class FollowUp(CaseAction):
    """The supervisor asks the official for a new answer to a disputed one."""

    action = "follow-up"
    note: Reason = ""


CASE_ACTIONS: tuple[type[CaseAction], ...] = (
    Opened,
    Forward,
    Subject,
    Extend,
    Hold,
    Release,
    Confirm,
    FollowUp,
)


class CaseDispute(BaseModel):
    """`GET <case>/dispute`: what the citizen holding the receipt may see of a disputed answer
    (the booth, /track): the new control date of a follow-up, the note of a confirmation."""

    state: Literal["open", "confirmed", "follow_up", "withdrawn"] | None = None
    control_date: date | None = None
    note: str | None = None
    decided_at: datetime | None = None
    round: int = 1


def case_path(appeal_id: str, action: str = "") -> str:
    """A case's path, or one of its actions' (`action`), the appeal id quoted."""
    path = f"{CASES_PATH}/{quote(appeal_id, safe='')}"
    return f"{path}/{action}" if action else path
