"""Storage periods and legal holds: routing decides when an appeal's file is destroyed.

Routing owns the case and the date it was closed (answered), so it alone decides: each kind of
data (the videos; the citizen's name, IIN and phone) expires its own number of days after the
close, unless the control office holds the case (a court, the prosecutor, a complaint). The
decision and the AppealExpired event telling the others are saved together; each service then
forgets its own copy. A run is idempotent: a kind already expired is never announced twice.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dialog_contracts import AppealExpired
from dialog_contracts.retention import RetainedKind
from dialog_contracts.routing_api import Hold, Release
from dialog_platform.component import Clock
from dialog_platform.outbox import Outbox, Pending

from . import repository as repo
from .messages import error

log = logging.getLogger(__name__)

Doc = dict[str, Any]
KINDS: tuple[RetainedKind, ...] = ("video", "personal")


@dataclass(frozen=True)
class Due:
    appeal_id: str
    registration_number: str
    closed_at: datetime
    kinds: list[RetainedKind]

    def line(self) -> str:
        return (
            f"{self.registration_number}\tclosed {self.closed_at.date().isoformat()}\t"
            f"{', '.join(self.kinds)}"
        )


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


@dataclass
class Retention:
    db: repo.Db
    outbox: Outbox
    clock: Clock
    periods: dict[RetainedKind, timedelta]

    def due_kinds(self, case: Doc, now: datetime) -> list[RetainedKind]:
        if case.get("status") != "answered" or case.get("legal_hold"):
            return []
        closed = _aware(case["answered_at"])
        expired = case.get("expired") or {}
        return [k for k in KINDS if k not in expired and closed + self.periods[k] <= now]

    async def due(self) -> list[Due]:
        now = self.clock()
        # Only closed cases can be due; the shortest period bounds the scan.
        cutoff = now - min(self.periods.values())
        found: list[Due] = []
        # A case whose every kind has expired is never read again.
        pending = [{f"expired.{k}": None} for k in KINDS]
        query = {"status": "answered", "answered_at": {"$lte": cutoff}, "$or": pending}
        async for case in self.db.cases.find(query):
            kinds = self.due_kinds(case, now)
            if kinds:
                found.append(
                    Due(
                        appeal_id=case["_id"],
                        registration_number=case["registration_number"],
                        closed_at=_aware(case["answered_at"]),
                        kinds=kinds,
                    )
                )
        return found

    async def run(self, *, dry_run: bool = False) -> list[Due]:
        """Expire what is due (or only list it); returns what was (or would be) destroyed."""
        due = await self.due()
        if dry_run:
            return due
        done = [d for d in due if await self._expire(d)]
        if done:
            log.info("storage periods ended", extra={"appeals": len(done)})
        return done

    async def _expire(self, due: Due) -> bool:
        async def apply(tx: Pending) -> bool:
            now = self.clock()
            case = await repo.get_case(self.db, appeal_id=due.appeal_id, session=tx.session)
            # Re-decided inside the transaction: a hold placed meanwhile wins.
            kinds = self.due_kinds(case, now) if case else []
            if not kinds:
                return False
            changes: Doc = {f"expired.{k}": now for k in kinds}
            if "personal" in kinds and ((case or {}).get("rating") or {}).get("comment"):
                # The citizen's comment on the answer is their own words, as personal as the phone.
                changes["rating.comment"] = None
            updated = await repo.update_case(
                self.db,
                appeal_id=due.appeal_id,
                guard={"legal_hold": None, **{f"expired.{k}": None for k in kinds}},
                changes=changes,
                unset=["phone"] if "personal" in kinds else None,
                history=[{"at": now, "what": "expired", "kind": ", ".join(kinds)}],
                session=tx.session,
            )
            if updated is None:
                return False
            tx.add(
                AppealExpired(
                    appeal_id=due.appeal_id,
                    registration_number=due.registration_number,
                    closed_at=due.closed_at,
                    expired_at=now,
                    kinds=kinds,
                )
            )
            return True

        expired = await self.outbox.run(apply)
        if expired and "personal" in due.kinds:
            await self.outbox.forget(due.appeal_id)
        return expired

    # --- legal hold (the control office, through the dashboard) ------------------------------

    async def hold(self, appeal_id: str, body: Hold) -> Doc:
        case = await repo.get_case(self.db, appeal_id=appeal_id)
        if case is None:
            raise error(404, "case_not_found")
        if not body.reason:
            raise error(422, "reason_required", field="reason")
        if case.get("legal_hold"):
            raise error(409, "case_on_hold")
        if "personal" in (case.get("expired") or {}):
            raise error(409, "case_expired")
        now = self.clock()
        updated = await repo.update_case(
            self.db,
            appeal_id=appeal_id,
            guard={"legal_hold": None},
            changes={
                "legal_hold": {
                    "id": uuid.uuid4().hex,
                    "reason": body.reason,
                    "by": body.by,
                    "at": now,
                }
            },
            history=[{"at": now, "what": "hold", "by": body.by, "reason": body.reason}],
        )
        if updated is None:
            raise error(409, "case_changed")
        log.info("case on legal hold", extra={"appeal_id": appeal_id, "by": body.by})
        return {"appeal_id": appeal_id, "legal_hold": updated["legal_hold"]}

    async def release(self, appeal_id: str, body: Release) -> Doc:
        case = await repo.get_case(self.db, appeal_id=appeal_id)
        if case is None:
            raise error(404, "case_not_found")
        if not body.reason:
            raise error(422, "reason_required", field="reason")
        if not case.get("legal_hold"):
            raise error(409, "case_not_on_hold")
        now = self.clock()
        updated = await repo.update_case(
            self.db,
            appeal_id=appeal_id,
            guard={"legal_hold.id": case["legal_hold"].get("id")},
            # Removed, not set to null: "no hold" is then one state for every server's query.
            changes={"hold_lifted_at": now},
            unset=["legal_hold"],
            history=[{"at": now, "what": "hold_lifted", "by": body.by, "reason": body.reason}],
        )
        if updated is None:
            raise error(409, "case_changed")
        log.info("legal hold lifted", extra={"appeal_id": appeal_id, "by": body.by})
        return {"appeal_id": appeal_id, "legal_hold": None}
