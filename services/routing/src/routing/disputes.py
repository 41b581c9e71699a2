"""What follows the citizen's rating: a "did not help" opens a dispute on the case, which the
official's supervisor or the control office settles by confirming the answer (a note to the
citizen) or by asking for a new answer by a new control date (counted in working days).

The citizen's words and the note stay in the case; the events carry none of them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from dialog_contracts import AnswerConfirmed, AnswerRated, FollowUpRequested
from dialog_contracts.routing_api import CaseDispute, Confirm, FollowUp
from dialog_platform.calendar import add_working_days
from dialog_platform.outbox import Pending

from . import repository as repo
from .messages import error
from .service import Routing
from .timers import schedule_fields

log = logging.getLogger(__name__)
Doc = dict[str, Any]


def citizen_view(case: Doc) -> CaseDispute:
    """What the citizen holding the receipt may see of the dispute (the booth, /track)."""
    dispute = case.get("dispute") or {}
    return CaseDispute(
        state=dispute.get("state"),
        control_date=case["control_date"] if dispute.get("state") == "follow_up" else None,
        note=dispute.get("note") if dispute.get("state") == "confirmed" else None,
        decided_at=dispute.get("decided_at"),
        round=case.get("round", 1),
    )


def dispute_row(case: Doc) -> Doc:
    rating = case.get("rating") or {}
    dispute = case.get("dispute") or {}
    return {
        "appeal_id": case["_id"],
        "registration_number": case["registration_number"],
        "official_id": case["official_id"],
        "department": case.get("department"),
        "language": case["language"],
        "answered_at": case.get("answered_at"),
        "reason": rating.get("reason"),
        "comment": rating.get("comment"),
        "rated_at": rating.get("rated_at"),
        "state": dispute.get("state"),
        "round": case.get("round", 1),
    }


@dataclass
class Disputes:
    routing: Routing
    follow_up_working_days: int = 10

    async def rated(self, event: AnswerRated) -> bool:
        """Keep the latest rating; a "no" opens the dispute, a "yes" instead withdraws an open
        one. A redelivered or older rating changes nothing."""
        db = self.routing.db
        case = await repo.get_case(db, appeal_id=event.appeal_id)
        if case is None:
            # The rating overtook the case (separate queues): the bus retries with backoff.
            raise LookupError(f"no case {event.appeal_id} yet")
        previous = case.get("rating") or {}
        # The database keeps milliseconds: compared at that precision, a redelivery is equal.
        rated_at = event.rated_at.replace(microsecond=event.rated_at.microsecond // 1000 * 1000)
        if previous.get("rated_at") and previous["rated_at"] >= rated_at:
            return False
        rating = {
            "helped": event.helped,
            "reason": event.reason,
            "comment": event.comment,
            "rated_at": rated_at,
            "answered_at": event.answered_at,
        }
        changes: Doc = {"rating": rating}
        state = (case.get("dispute") or {}).get("state")
        if not event.helped and state != "open" and case["status"] == "answered":
            changes["dispute"] = {"state": "open", "since": rated_at}
        elif event.helped and state == "open":
            changes["dispute"] = {**case["dispute"], "state": "withdrawn"}
        guard: Doc = {"rating.rated_at": previous["rated_at"]} if previous else {"rating": None}
        updated = await repo.update_case(
            db,
            appeal_id=event.appeal_id,
            guard=guard,
            changes=changes,
            history=[
                {
                    "at": rated_at,
                    "what": "rated_helpful" if event.helped else "rated_not_helpful",
                    "official_id": case["official_id"],
                    "reason": event.reason,
                    "by": None,
                }
            ],
        )
        return updated is not None

    async def _disputed(self, appeal_id: str) -> Doc:
        case = await repo.get_case(self.routing.db, appeal_id=appeal_id)
        if case is None:
            raise error(404, "case_not_found")
        if (case.get("dispute") or {}).get("state") != "open":
            raise error(409, "not_disputed")
        return case

    async def confirm(self, appeal_id: str, body: Confirm) -> Doc:
        case = await self._disputed(appeal_id)
        if not body.note:
            raise error(422, "note_required", field="note")

        async def apply(tx: Pending) -> bool:
            now = self.routing.clock()
            updated = await repo.update_case(
                self.routing.db,
                appeal_id=appeal_id,
                guard={"dispute.state": "open"},
                changes={
                    "dispute": {
                        **case["dispute"],
                        "state": "confirmed",
                        "note": body.note,
                        "decided_at": now,
                        "decided_by": body.by,
                    }
                },
                history=[
                    {
                        "at": now,
                        "what": "answer_confirmed",
                        "by": body.by,
                        "official_id": case["official_id"],
                        "reason": body.note,
                    }
                ],
                session=tx.session,
            )
            if updated is None:
                return False
            tx.add(
                AnswerConfirmed(
                    appeal_id=appeal_id,
                    registration_number=case["registration_number"],
                    official_id=case["official_id"],
                    language=case["language"],
                    confirmed_at=now,
                )
            )
            return True

        if not await self.routing.outbox.run(apply):
            raise error(409, "case_changed")
        log.info("answer confirmed", extra={"appeal_id": appeal_id, "by": body.by})
        return await self.routing.case(appeal_id) or {}

    async def follow_up(self, appeal_id: str, body: FollowUp) -> Doc:
        case = await self._disputed(appeal_id)
        today = self.routing.today()
        control = add_working_days(today, self.follow_up_working_days)
        # The law's deadline never falls before the promise: the timers read both.
        legal = max(date.fromisoformat(case["legal_deadline"]), control)
        round_ = int(case.get("round", 1)) + 1

        async def apply(tx: Pending) -> bool:
            now = self.routing.clock()
            moved = {
                **case,
                "status": "in_progress",
                "control_date": control.isoformat(),
                "legal_deadline": legal.isoformat(),
            }
            schedule, unset = schedule_fields(
                moved, lead_working_days=self.routing.lead_working_days
            )
            updated = await repo.update_case(
                self.routing.db,
                appeal_id=appeal_id,
                guard={"dispute.state": "open", "official_id": case["official_id"]},
                changes={
                    "status": "in_progress",
                    "open": True,
                    "round": round_,
                    "control_date": control.isoformat(),
                    "legal_deadline": legal.isoformat(),
                    "dispute": {
                        **case["dispute"],
                        "state": "follow_up",
                        "note": body.note,
                        "decided_at": now,
                        "decided_by": body.by,
                    },
                    **schedule,
                    **repo.case_keys(moved),
                },
                unset=[*unset, "answered_at", "answered_date"],
                history=[
                    {
                        "at": now,
                        "what": "follow_up_requested",
                        "by": body.by,
                        "official_id": case["official_id"],
                        "reason": body.note,
                        "deadline": control.isoformat(),
                    }
                ],
                session=tx.session,
            )
            if updated is None:
                return False
            tx.add(
                FollowUpRequested(
                    appeal_id=appeal_id,
                    registration_number=case["registration_number"],
                    official_id=case["official_id"],
                    language=case["language"],
                    control_date=control,
                    round=round_,
                    requested_at=now,
                )
            )
            return True

        if not await self.routing.outbox.run(apply):
            raise error(409, "case_changed")
        log.info("follow-up requested", extra={"appeal_id": appeal_id, "by": body.by})
        return await self.routing.case(appeal_id) or {}

    async def open_disputes(self, *, supervisor_id: str | None) -> list[Doc]:
        """Open disputes, oldest first; for a supervisor, of the officials they supervise."""
        db = self.routing.db
        query: Doc = {"dispute.state": "open"}
        if supervisor_id is not None:
            officials = await repo.all_officials(db)
            query["official_id"] = {
                "$in": [o["_id"] for o in officials if o.get("supervisor_id") == supervisor_id]
            }
        rows = [dispute_row(c) async for c in db.cases.find(query)]
        return sorted(rows, key=lambda r: str(r["rated_at"]))

    async def citizen(self, appeal_id: str) -> CaseDispute:
        case = await repo.get_case(self.routing.db, appeal_id=appeal_id)
        if case is None:
            raise error(404, "case_not_found")
        return citizen_view(case)
