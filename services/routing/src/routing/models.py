"""Request bodies of routing's directory API. Unknown fields are refused, so a typo is a 422
naming it. The cases API's terms are shared with its callers in `dialog_contracts.routing_api`."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from dialog_contracts import Language
from dialog_contracts.routing_api import OFFICIAL_ID, Login

E164 = r"^\+\d{8,15}$"

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
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
