"""The case list's filters, read from the query string and checked against what routing knows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request

from dialog_contracts.routing_api import CASE_SORTS, CASE_STATES, DUE_FILTERS, CaseQuery

from ..models import OFFICIAL_ID
from ..workbench import TOPIC_ID
from .base import PageError

MAX_CURSOR = 500


@dataclass(frozen=True)
class CaseFilters:
    status: str = ""
    due: str = ""
    sort: str = "control_date"
    official_id: str = ""
    department: str = ""
    after: str = ""
    topic: str = ""

    def query(self, **changes: Any) -> CaseQuery:
        """Routing's case query for these filters, some changed (`limit`, `after`…)."""
        values = {
            "status": self.status or None,
            "due": self.due or None,
            "sort": self.sort,
            "official_id": self.official_id or None,
            "department": self.department or None,
            "after": self.after or None,
            "topic": self.topic or None,
        }
        return CaseQuery.model_validate({**values, **changes})

    def link(self, **changes: str) -> str:
        """The query string of these filters with some changed (for the sort and filter links)."""
        from urllib.parse import urlencode

        values = {
            "status": self.status,
            "due": self.due,
            "sort": self.sort,
            "official_id": self.official_id,
            "department": self.department,
            "topic": self.topic,
        }
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v})


def read_filters(request: Request, *, allow_official: bool) -> CaseFilters:
    q = request.query_params
    status = q.get("status", "")
    due = q.get("due", "")
    sort = q.get("sort", "") or "control_date"
    official_id = q.get("official_id", "") if allow_official else ""
    department = q.get("department", "")[:200] if allow_official else ""
    after = q.get("after", "")
    topic = q.get("topic", "")
    if status and status not in CASE_STATES:
        raise PageError(422, "invalid", field="status")
    if due and due not in DUE_FILTERS:
        raise PageError(422, "invalid", field="due")
    if sort not in CASE_SORTS:
        raise PageError(422, "invalid", field="sort")
    if official_id and not OFFICIAL_ID.fullmatch(official_id):
        raise PageError(422, "invalid", field="official_id")
    if len(after) > MAX_CURSOR:
        raise PageError(422, "invalid", field="after")
    if topic and not TOPIC_ID.fullmatch(topic):
        raise PageError(422, "invalid", field="topic")
    return CaseFilters(status, due, sort, official_id, department, after, topic)
