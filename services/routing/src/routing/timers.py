"""Deadline timers kept in the database: a reminder before the control date, and the overdue
notices when the control date or the legal deadline passes.

Each case carries `next_check_at` (epoch seconds of its earliest timer still to fire; absent
when none is left, e.g. once answered) under a sparse index, and `fired`, the keys of the timers
already fired. A key names the timer and its date (`overdue:legal:2026-12-14`), so an extension
that moves a date gives a new key that may fire again, while the old one never fires twice.
One periodic scan (not a sleep per case) picks up whatever is due, including what fell due while
the service was down; each firing updates the case and adds its event to the outbox in one
transaction, guarded on the key being absent, so a restart or a second replica fires nothing twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from dialog_contracts import AppealOverdue, DeadlineApproaching
from dialog_platform.calendar import ALMATY, add_working_days, local_date
from dialog_platform.component import Clock
from dialog_platform.outbox import Outbox, Pending

from . import repository as repo

log = logging.getLogger(__name__)

Doc = dict[str, Any]
BATCH = 200


@dataclass(frozen=True)
class Timer:
    key: str
    at: datetime
    what: str  # "reminded" or "overdue"
    kind: str  # "control" or "legal"
    deadline: date


def start_of(day: date) -> datetime:
    """Midnight in Almaty: deadlines are calendar days there, whatever the server's zone."""
    return datetime.combine(day, time(0), tzinfo=ALMATY)


def plan(case: Doc, *, lead_working_days: int) -> list[Timer]:
    control = date.fromisoformat(case["control_date"])
    legal = date.fromisoformat(case["legal_deadline"])
    remind_on = add_working_days(control, -lead_working_days)
    after = timedelta(days=1)
    return [
        Timer(f"reminded:control:{control}", start_of(remind_on), "reminded", "control", control),
        Timer(
            f"overdue:control:{control}", start_of(control + after), "overdue", "control", control
        ),
        Timer(f"overdue:legal:{legal}", start_of(legal + after), "overdue", "legal", legal),
    ]


def next_check_at(case: Doc, *, lead_working_days: int, fired: list[str]) -> float | None:
    if case.get("status") == "answered":
        return None
    pending = [t.at for t in plan(case, lead_working_days=lead_working_days) if t.key not in fired]
    return min(pending).timestamp() if pending else None


def schedule_fields(case: Doc, *, lead_working_days: int) -> tuple[Doc, list[str]]:
    """($set, $unset) that keep `next_check_at` right after a case's dates or status changed."""
    at = next_check_at(case, lead_working_days=lead_working_days, fired=case.get("fired", []))
    return ({"next_check_at": at}, []) if at is not None else ({}, ["next_check_at"])


@dataclass
class Timers:
    db: repo.Db
    outbox: Outbox
    clock: Clock
    lead_working_days: int = 3

    async def scan(self) -> None:
        """One pass of the periodic scan."""
        fired = await self.run_due()
        if fired:
            log.info("deadline timers fired", extra={"fired": fired})

    async def run_due(self) -> int:
        """Fire every timer due now; return how many events were published."""
        fired = 0
        for _ in range(10_000):  # bounded: a batch always moves its cases' next_check_at on
            ids = await repo.due_for_check(self.db, now_ts=self.clock().timestamp(), limit=BATCH)
            for appeal_id in ids:
                fired += await self.fire(appeal_id)
            if len(ids) < BATCH:
                break
        return fired

    async def fire(self, appeal_id: str) -> int:
        async def step(tx: Pending) -> int:
            case = await repo.get_case(self.db, appeal_id=appeal_id, session=tx.session)
            if case is None:
                return 0
            now = self.clock()
            already = list(case.get("fired", []))
            due = [
                t
                for t in plan(case, lead_working_days=self.lead_working_days)
                if t.key not in already and t.at <= now and case["status"] != "answered"
            ]
            keys = [t.key for t in due]
            at = next_check_at(case, lead_working_days=self.lead_working_days, fired=already + keys)
            changes: Doc = {"next_check_at": at} if at is not None else {}
            today = local_date(now)
            # A reminder for a date already gone says nothing the overdue notice does not.
            events = [t for t in due if not (t.what == "reminded" and t.deadline < today)]
            updated = await repo.update_case(
                self.db,
                appeal_id=appeal_id,
                guard={"fired": {"$nin": keys}} if keys else {},
                changes=changes,
                unset=[] if at is not None else ["next_check_at"],
                fired=keys,
                history=[
                    {"at": now, "what": t.what, "kind": t.kind, "deadline": t.deadline.isoformat()}
                    for t in events
                ],
                session=tx.session,
            )
            if updated is None:
                return 0  # fired meanwhile by another scan; its transaction has the events
            if not events:
                return 0
            official = await repo.get_official(
                self.db, official_id=case["official_id"], session=tx.session
            )
            supervisor_id = official.get("supervisor_id") if official else None
            for t in events:
                cls = DeadlineApproaching if t.what == "reminded" else AppealOverdue
                tx.add(
                    cls(
                        appeal_id=appeal_id,
                        registration_number=case["registration_number"],
                        official_id=case["official_id"],
                        supervisor_id=supervisor_id,
                        deadline=t.deadline,
                        kind=t.kind,  # type: ignore[arg-type]
                    )
                )
            return len(events)

        return await self.outbox.run(step)
