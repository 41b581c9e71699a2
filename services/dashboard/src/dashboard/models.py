"""The dashboard's stored shapes and the values its forms accept."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

Role = Literal["official", "controller", "admin", "operator"]
ROLES: tuple[Role, ...] = ("official", "controller", "admin", "operator")
# A center as the booths' registry names it (the kiosk's center, else its location).
CENTER_MAX = 200
LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
OFFICIAL_ID = re.compile(r"^[a-z0-9-]{2,40}$")
CASE_STATUSES = ("new", "in_progress", "answered", "overdue")
CASE_SORTS = ("control_date", "-control_date", "recorded_at", "-recorded_at")
DUE_FILTERS = ("soon", "overdue")
MAX_ANSWER_CHARS = 20_000
MAX_REASON_CHARS = 2_000


@dataclass(frozen=True)
class Account:
    login: str
    role: Role
    official_id: str | None
    active: bool
    # An operator's service center: the booths they look after.
    center: str | None = None

    @property
    def sees_all_cases(self) -> bool:
        return self.role == "controller"

    @property
    def handles_cases(self) -> bool:
        return self.role in ("official", "controller")


@dataclass(frozen=True)
class Session:
    id: str
    csrf: str
    account: Account | None
    expires_at: datetime


def account_from(doc: dict[str, Any]) -> Account:
    official = doc.get("official_id")
    return Account(
        login=str(doc["_id"]),
        role=cast(Role, doc["role"]),
        official_id=str(official) if official else None,
        active=bool(doc.get("active", True)),
        center=str(doc["center"]) if doc.get("center") else None,
    )
