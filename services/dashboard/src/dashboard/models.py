"""The dashboard's stored shapes and the values its forms accept."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from dialog_contracts import routing_api

Role = Literal["official", "controller", "admin", "operator"]
ROLES: tuple[Role, ...] = ("official", "controller", "admin", "operator")
# A center as the booths' registry names it (the kiosk's center, else its location).
CENTER_MAX = 200
LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
OFFICIAL_ID = re.compile(routing_api.OFFICIAL_ID)
MAX_ANSWER_CHARS = 20_000
MAX_REASON_CHARS = routing_api.MAX_REASON_CHARS


@dataclass(frozen=True)
class Account:
    login: str
    role: Role
    official_id: str | None
    active: bool
    # An operator's service center: the booths they look after.
    center: str | None = None

    # Who may do what, decided here once; the views ask these, never the role itself.

    @property
    def sees_all_cases(self) -> bool:
        """The control office: every case, and its duties (extend, export, statistics)."""
        return self.role == "controller"

    @property
    def handles_cases(self) -> bool:
        return self.role in ("official", "controller")

    @property
    def official_of(self) -> str | None:
        """The official whose cases this account handles, for an official's account."""
        return self.official_id if self.role == "official" and self.official_id else None

    def owns(self, case: Mapping[str, Any]) -> bool:
        return self.official_of is not None and case.get("official_id") == self.official_of

    def may_act_on(self, case: Mapping[str, Any]) -> bool:
        """See, answer, forward: the control office any case, an official their own."""
        return self.sees_all_cases or self.owns(case)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def keeps_templates(self) -> bool:
        return self.role in ("controller", "admin")


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
