"""The cases list: filters, sort and the keyset cursor, turned into one indexed query.

`after` is an opaque cursor holding the last row's sort value and id; the next page starts
strictly after it in (sort value, appeal id) order. Unlike `skip`, that costs the same on page
1000 as on page 1, and a case arriving between two pages neither repeats nor hides a row.

Open cases by control date, one official's or everyone's (the inbox, the overdue and due-soon
lists), are one range of a composite key (see `repository.case_keys`); other filters query the
fields. Both give the same rows, in the same order, with the same cursors.
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
    topic: str | None = None


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
    if f.topic:
        query["topic"] = f.topic
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


@dataclass(frozen=True)
class KeyRange:
    """A composite key's range [low, high) and the prefix its keys share."""

    key: str
    prefix: str
    low: str
    high: str

    def bounds(self, *, descending: bool, after: tuple[str, str] | None) -> Doc:
        """The range, narrowed to what comes strictly after the cursor's row."""
        low: Doc = {"$gte": self.low}
        high = self.high
        if after is not None:
            value, last_id = after
            last = f"{self.prefix}{value}{repo.KEY_SEP}{last_id}"
            if descending:
                high = min(high, last)
            elif last >= self.low:
                low = {"$gt": last}
        return {**low, "$lt": high}


def key_range(f: CaseFilter, *, today: date, soon_until: date) -> KeyRange | None:
    """The key range that holds exactly the filter's rows, or None when no key serves it."""
    open_only = f.status in ("open", "overdue") or f.due is not None
    if f.sort.lstrip("-") != "control_date" or f.department or f.topic or not open_only:
        return None
    if f.status not in (None, "open", "overdue"):
        return None  # new / in progress / answered: the status is an equality on its own field
    if f.official_id:
        if repo.KEY_SEP in f.official_id:
            return None  # no official has such an id; the field query finds nothing, rightly
        key, prefix = repo.INBOX_KEY, f"{f.official_id}{repo.KEY_SEP}0{repo.KEY_SEP}"
    else:
        key, prefix = repo.OVERDUE_KEY, f"0{repo.KEY_SEP}"
    # A date D's keys lie in [prefix + D, prefix + D + KEY_END).
    low, high = prefix, prefix[: -len(repo.KEY_SEP)] + repo.KEY_END
    if f.status == "overdue" or f.due == "overdue":
        high = min(high, prefix + today.isoformat())
    if f.due == "soon":
        low = max(low, prefix + today.isoformat())
        high = min(high, prefix + soon_until.isoformat() + repo.KEY_END)
    return KeyRange(key=key, prefix=prefix, low=low, high=high)


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
    cursor = _decode(after, field) if after else None
    keyed = key_range(f, today=today, soon_until=soon_until)
    # One more row than asked tells whether there is a next page without counting.
    if keyed is not None:
        rows = await repo.find_by_key(
            db,
            key=keyed.key,
            bounds=keyed.bounds(descending=descending, after=cursor),
            descending=descending,
            limit=limit + 1,
        )
    else:
        query = build_query(f, today=today, soon_until=soon_until)
        if cursor is None:
            rows = await repo.find_cases(
                db, query=query, sort_field=field, descending=descending, limit=limit + 1
            )
        else:
            rows = await _after(db, query, field, cursor, descending=descending, limit=limit + 1)
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, _encode(rows[-1][field], rows[-1]["_id"])


async def _after(
    db: repo.Db, query: Doc, field: str, cursor: tuple[Any, str], *, descending: bool, limit: int
) -> list[Doc]:
    """The rows strictly after the cursor's row: first its ties on the sort value, then the rest.

    Two queries rather than one `$or` of both: MongoDB serves either from an index, but the
    embedded server answers any `$or` by decoding every case in Python, once per page.
    """
    value, last_id = cursor
    op = "$lt" if descending else "$gt"
    ties = await repo.find_cases(
        db,
        query={**query, field: _also(query.get(field), "$eq", value), "appeal_id": {op: last_id}},
        sort_field=field,
        descending=descending,
        limit=limit,
    )
    if len(ties) >= limit:
        return ties
    beyond = await repo.find_cases(
        db,
        query={**query, field: _also(query.get(field), op, value)},
        sort_field=field,
        descending=descending,
        limit=limit - len(ties),
    )
    return ties + beyond


def _also(condition: Any, op: str, value: Any) -> Doc:
    """`condition` (a field's range from `build_query`, or nothing) and `{op: value}` at once."""
    merged: Doc = dict(condition or {})
    if op in merged:
        # Both bound the same side: the tighter bound is both.
        merged[op] = min(merged[op], value) if op == "$lt" else max(merged[op], value)
    else:
        merged[op] = value
    return merged
