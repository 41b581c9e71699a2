"""The cases list: filters, sort and the keyset cursor, turned into one indexed query.

`after` is an opaque cursor holding the last row's sort value and id; the next page starts
strictly after it in (sort value, appeal id) order. Unlike `skip`, that costs the same on page
1000 as on page 1, and a case arriving between two pages neither repeats nor hides a row.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from . import repository as repo
from .messages import error

Doc = dict[str, Any]


@dataclass(frozen=True)
class CaseFilter:
    official_id: str | None = None
    status: str | None = None  # new | in_progress | answered | overdue | open
    department: str | None = None
    due: str | None = None  # soon | overdue
    sort: str = "control_date"  # control_date | -control_date | recorded_at | -recorded_at


def _encode(value: Any, appeal_id: str) -> str:
    if isinstance(value, datetime):
        value = {"t": value.isoformat()}
    raw = json.dumps([value, appeal_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, sort_field: str) -> tuple[Any, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, appeal_id = json.loads(raw)
        if not isinstance(appeal_id, str):
            raise ValueError("id")
        if sort_field == "recorded_at":
            value = datetime.fromisoformat(value["t"])
        elif not isinstance(value, str):
            raise ValueError("value")
        else:
            date.fromisoformat(value)
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError) as exc:
        raise error(422, "cursor_invalid", field="after") from exc
    return value, appeal_id


def build_query(f: CaseFilter, *, today: date, soon_until: date) -> Doc:
    query: Doc = {}
    if f.official_id:
        query["official_id"] = f.official_id
    if f.department:
        query["department"] = f.department
    control: Doc = {}
    if f.status == "overdue" or f.due == "overdue":
        query["open"] = True
        control["$lt"] = today.isoformat()
    if f.status == "open":
        query["open"] = True
    if f.status in ("new", "in_progress", "answered"):
        query["status"] = f.status
    if f.due == "soon":
        query["open"] = True
        control["$gte"] = today.isoformat()
        control["$lte"] = soon_until.isoformat()
    if control:
        query["control_date"] = control
    return query


async def page(
    db: repo.Db,
    f: CaseFilter,
    *,
    today: date,
    soon_until: date,
    limit: int,
    after: str | None = None,
) -> tuple[list[Doc], str | None]:
    """One page of cases and the cursor of the next one (None on the last page)."""
    descending = f.sort.startswith("-")
    field = f.sort.lstrip("-")
    query = build_query(f, today=today, soon_until=soon_until)
    if after:
        value, last_id = _decode(after, field)
        op = "$lt" if descending else "$gt"
        keyset = {"$or": [{field: {op: value}}, {field: value, "appeal_id": {op: last_id}}]}
        query = {"$and": [query, keyset]} if query else keyset
    # One more row than asked tells whether there is a next page without counting.
    rows = await repo.find_cases(
        db, query=query, sort_field=field, descending=descending, limit=limit + 1
    )
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, _encode(rows[-1][field], rows[-1]["_id"])
