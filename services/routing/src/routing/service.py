"""routing's logic for cases: assignment, opening, forwarding, extension and the answer."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from pymongo.errors import DuplicateKeyError

from dialog_contracts import (
    AnswerPosted,
    AppealExtended,
    AppealForwarded,
    AppealRecorded,
    AppealRouted,
)
from dialog_contracts.routing_api import Extend, Forward, Opened, Subject
from dialog_platform.calendar import add_working_days, local_date
from dialog_platform.component import Clock
from dialog_platform.outbox import Outbox, Pending

from . import repository as repo
from .directory import Directory
from .messages import error
from .present import case_detail, case_summary
from .queries import CaseFilter, page
from .timers import schedule_fields

log = logging.getLogger(__name__)

Doc = dict[str, Any]
# APPC: an extension is reasoned and bounded; the product's rule is two calendar months at most.
MAX_EXTENSION_MONTHS = 2
# Each attempt loses only to a forward or an extension made in between; they are rare.
ANSWER_ATTEMPTS = 5


def load_seed(path: Path | None) -> list[Doc]:
    if path is None:
        text = (
            resources.files("routing").joinpath("seed/officials.json").read_text(encoding="utf-8")
        )
    else:
        text = path.read_text(encoding="utf-8")
    officials: list[Doc] = json.loads(text)["officials"]
    return officials


def add_months(d: date, months: int) -> date:
    """The same day `months` later, or that month's last day (31 Dec + 2 months = 28/29 Feb)."""
    month0 = d.month - 1 + months
    year, month = d.year + month0 // 12, month0 % 12 + 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(year, month, min(d.day, day))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def _key_guard(case: Doc) -> Doc:
    """A change that stores new sort keys applies only to the state they were computed from."""
    return {"official_id": case["official_id"], "control_date": case["control_date"]}


def _department_key(official: Doc | None) -> str | None:
    department = (official or {}).get("department") or {}
    value = department.get("ru")
    return str(value) if value else None


@dataclass
class Routing:
    db: repo.Db
    outbox: Outbox
    clock: Clock
    directory: Directory
    lead_working_days: int = 3

    def today(self) -> date:
        return local_date(self.clock())

    # --- events in ---------------------------------------------------------------------------

    async def assign(self, event: AppealRecorded) -> bool:
        """Open the case for a recorded appeal; returns False when it was already open."""
        recorded_on = local_date(event.recorded_at)
        # While the addressee is away, new appeals go to the acting deputy; the case still says
        # whom the citizen chose.
        handler_id, handler = await self.directory.handler_for(event.official_id, recorded_on)

        async def open_case(tx: Pending) -> bool:
            now = self.clock()
            case: Doc = {
                "_id": event.appeal_id,
                "appeal_id": event.appeal_id,  # the keyset tie-breaker (see repository)
                "registration_number": event.registration_number,
                "addressed_official_id": event.official_id,
                "official_id": handler_id,
                "department": _department_key(handler),
                "kiosk_id": event.kiosk_id,
                "phone": event.phone,
                "category": event.category,
                "language": event.language,
                "recorded_at": event.recorded_at,
                "recorded_date": recorded_on.isoformat(),
                "control_date": event.control_date.isoformat(),
                "legal_deadline": event.legal_deadline.isoformat(),
                "video": event.video.model_dump(),
                "status": "new",
                "open": True,
                "routed_at": now,
                "fired": [],
                "history": [{"at": now, "what": "routed", "official_id": handler_id, "by": None}],
            }
            case.update(schedule_fields(case, lead_working_days=self.lead_working_days)[0])
            case.update(repo.case_keys(case))
            await repo.insert_case(self.db, case=case, session=tx.session)
            tx.add(
                AppealRouted(
                    appeal_id=event.appeal_id,
                    registration_number=event.registration_number,
                    official_id=handler_id,
                    addressed_official_id=event.official_id,
                    language=event.language,
                    control_date=event.control_date,
                    legal_deadline=event.legal_deadline,
                    routed_at=now,
                )
            )
            return True

        try:
            return await self.outbox.run(open_case)
        except DuplicateKeyError:
            # A second delivery of the event opened it meanwhile; its transaction, events
            # included, was rolled back.
            return False

    async def answered(self, event: AnswerPosted) -> bool:
        """Close the case; a redelivery or a corrected answer changes nothing more."""
        for _ in range(ANSWER_ATTEMPTS):
            case = await repo.get_case(self.db, appeal_id=event.appeal_id)
            if case is None:
                # The answer overtook the recorded event (separate queues): raising makes the
                # bus retry with backoff, by when the case exists.
                raise LookupError(f"no case {event.appeal_id} yet")
            if case["status"] == "answered":
                return False
            changes: Doc = {
                "status": "answered",
                "open": False,
                "answered_at": event.answered_at,
                "answered_date": local_date(event.answered_at).isoformat(),
            }
            updated = await repo.update_case(
                self.db,
                appeal_id=event.appeal_id,
                # The keys are computed from the handler and control date read above.
                guard={"status": {"$ne": "answered"}, **_key_guard(case)},
                changes={**changes, **repo.case_keys({**case, **changes})},
                unset=["next_check_at"],
                history=[
                    {"at": event.answered_at, "what": "answered", "official_id": event.official_id}
                ],
            )
            if updated is not None:
                return True
        # Forwarded or extended on every attempt: the bus retries the event with backoff.
        raise RuntimeError(f"case {event.appeal_id} kept changing while being answered")

    # --- the dashboard's actions -------------------------------------------------------------

    async def _open_case(self, appeal_id: str) -> Doc:
        case = await repo.get_case(self.db, appeal_id=appeal_id)
        if case is None:
            raise error(404, "case_not_found")
        return case

    async def opened(self, appeal_id: str, body: Opened) -> Doc:
        case = await self._open_case(appeal_id)
        if case["status"] == "new":
            now = self.clock()
            await repo.update_case(
                self.db,
                appeal_id=appeal_id,
                guard={"status": "new"},
                changes={"status": "in_progress"},
                history=[
                    {"at": now, "what": "opened", "by": body.by, "official_id": case["official_id"]}
                ],
            )
        return await self.case(appeal_id) or {}

    async def set_subject(self, appeal_id: str, body: Subject) -> Doc:
        case = await self._open_case(appeal_id)
        summary = " ".join(body.summary.split())  # one line, whatever was pasted
        await repo.update_case(
            self.db,
            appeal_id=appeal_id,
            guard={},
            changes={"topic": body.topic, "summary": summary},
            history=[
                {
                    "at": self.clock(),
                    "what": "subject",
                    "by": body.by,
                    "official_id": case["official_id"],
                    "topic": body.topic,
                }
            ],
        )
        return await self.case(appeal_id) or {}

    async def forward(self, appeal_id: str, body: Forward) -> Doc:
        case = await self._open_case(appeal_id)
        if case["status"] == "answered":
            raise error(409, "case_answered")
        if not body.reason:
            raise error(422, "reason_required", field="reason")
        target = await repo.get_official(self.db, official_id=body.to_official_id)
        if target is None:
            raise error(422, "unknown_official", field="to_official_id")
        if not target.get("active", True):
            raise error(422, "official_inactive", field="to_official_id")
        if target["_id"] == case["official_id"]:
            raise error(422, "same_official", field="to_official_id")

        async def move(tx: Pending) -> bool:
            now = self.clock()
            updated = await repo.update_case(
                self.db,
                appeal_id=appeal_id,
                # Decided on this handler and an open case; anything else is a concurrent change.
                guard={"status": {"$ne": "answered"}, **_key_guard(case)},
                # The new official has not seen it yet.
                changes={
                    "official_id": target["_id"],
                    "department": _department_key(target),
                    "status": "new",
                    **repo.case_keys({**case, "official_id": target["_id"]}),
                },
                history=[
                    {
                        "at": now,
                        "what": "forwarded",
                        "by": body.by,
                        "official_id": case["official_id"],
                        "to_official_id": target["_id"],
                        "reason": body.reason,
                    }
                ],
                session=tx.session,
            )
            if updated is None:
                return False
            tx.add(
                AppealForwarded(
                    appeal_id=appeal_id,
                    registration_number=case["registration_number"],
                    from_official_id=case["official_id"],
                    to_official_id=target["_id"],
                    language=case["language"],
                    forwarded_at=now,
                )
            )
            tx.add(
                AppealRouted(
                    appeal_id=appeal_id,
                    registration_number=case["registration_number"],
                    official_id=target["_id"],
                    addressed_official_id=case["addressed_official_id"],
                    language=case["language"],
                    control_date=date.fromisoformat(case["control_date"]),
                    legal_deadline=date.fromisoformat(case["legal_deadline"]),
                    routed_at=now,
                )
            )
            return True

        if not await self.outbox.run(move):
            raise error(409, "case_changed")
        log.info(
            "case forwarded",
            extra={"appeal_id": appeal_id, "to": target["_id"], "by": body.by},
        )
        return await self.case(appeal_id) or {}

    async def extend(self, appeal_id: str, body: Extend) -> Doc:
        case = await self._open_case(appeal_id)
        if case["status"] == "answered":
            raise error(409, "case_answered")
        if not body.reason:
            raise error(422, "reason_required", field="reason")
        current_legal = date.fromisoformat(case["legal_deadline"])
        current_control = date.fromisoformat(case["control_date"])
        if body.legal_deadline <= current_legal:
            raise error(422, "deadline_not_later", field="legal_deadline")
        registered = date.fromisoformat(case["recorded_date"])
        if body.legal_deadline > add_months(registered, MAX_EXTENSION_MONTHS):
            raise error(422, "deadline_too_far", field="legal_deadline")
        # Without a new control date the promise moves with the law: the case is not "overdue"
        # by a date the extension has replaced.
        control = body.control_date or body.legal_deadline
        if control < current_control or control > body.legal_deadline:
            raise error(422, "control_date_invalid", field="control_date")

        async def apply(tx: Pending) -> bool:
            now = self.clock()
            moved = {
                **case,
                "control_date": control.isoformat(),
                "legal_deadline": body.legal_deadline.isoformat(),
            }
            schedule, unset = schedule_fields(moved, lead_working_days=self.lead_working_days)
            updated = await repo.update_case(
                self.db,
                appeal_id=appeal_id,
                guard={
                    "legal_deadline": case["legal_deadline"],
                    "status": {"$ne": "answered"},
                    **_key_guard(case),
                },
                changes={
                    "control_date": control.isoformat(),
                    "legal_deadline": body.legal_deadline.isoformat(),
                    **schedule,
                    **repo.case_keys(moved),
                },
                unset=unset,
                history=[
                    {
                        "at": now,
                        "what": "extended",
                        "by": body.by,
                        "official_id": case["official_id"],
                        "reason": body.reason,
                        "deadline": body.legal_deadline.isoformat(),
                        "control_date": control.isoformat(),
                    }
                ],
                session=tx.session,
            )
            if updated is None:
                return False
            tx.add(
                AppealExtended(
                    appeal_id=appeal_id,
                    registration_number=case["registration_number"],
                    official_id=case["official_id"],
                    language=case["language"],
                    control_date=control,
                    legal_deadline=body.legal_deadline,
                    extended_at=now,
                )
            )
            return True

        if not await self.outbox.run(apply):
            # Answered, or extended by someone else in between: the caller re-reads and decides.
            raise error(409, "case_changed")
        log.info("case extended", extra={"appeal_id": appeal_id, "by": body.by})
        return await self.case(appeal_id) or {}

    # --- reads -------------------------------------------------------------------------------

    async def case(self, appeal_id: str) -> Doc | None:
        doc = await repo.get_case(self.db, appeal_id=appeal_id)
        return case_detail(doc, self.today()) if doc else None

    async def cases(self, f: CaseFilter, *, limit: int, after: str | None) -> Doc:
        today = self.today()
        rows, cursor = await page(
            self.db,
            f,
            today=today,
            soon_until=self.soon_until(today),
            limit=limit,
            after=after,
        )
        return {"cases": [case_summary(r, today) for r in rows], "next": cursor}

    def soon_until(self, today: date) -> date:
        """ "Due soon": the control date within the reminder lead (3 working days by default)."""
        return add_working_days(today, max(self.lead_working_days, 1))
