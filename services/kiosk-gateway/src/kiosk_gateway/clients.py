"""Calls to other services' HTTP APIs (the dashboard's answers, routing's word on a disputed
answer). media-store's objects are the platform's MediaClient, which the dashboard shares."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pydantic import ValidationError

from dialog_contracts.routing_api import CaseDispute, case_path
from dialog_platform.clients import ServiceApi


class DashboardClient(ServiceApi):
    """The dashboard's internal answers API (the answer text never travels in an event)."""

    async def current_answer(self, appeal_id: str) -> dict[str, Any] | None:
        """The last entry of the appeal's answers (a correction replaces what it corrects).

        None when there is none or the dashboard cannot be reached: the citizen then sees the
        appeal as answered, with the text to come, rather than an error.
        """
        found = await self.optional(f"/dashboard/internal/answers/{quote(appeal_id, safe='')}")
        answers = found.get("answers") if isinstance(found, dict) else None
        if not isinstance(answers, list) or not answers:
            return None
        last: dict[str, Any] = answers[-1]
        return last


class RoutingClient(ServiceApi):
    """What routing decided on a citizen's "did not help" (the note never travels in an event)."""

    async def dispute(self, appeal_id: str) -> CaseDispute | None:
        """None when routing cannot be reached: the citizen then sees "under review"."""
        found = await self.optional(case_path(appeal_id, "dispute"))
        try:
            return CaseDispute.model_validate(found) if isinstance(found, dict) else None
        except ValidationError:
            return None
