"""The citizen's rating of the answer: "did it help?", yes or no with a reason.

Given with the receipt's number and code through the look-up's own checks (the same rate limit,
404 and lockout), once per answer and changeable for `rating_window_days` after it was first
given; then refused. A follow-up's new answer is rated afresh. The rating and its AnswerRated
are saved together (outbox); routing keeps the case and decides what a "no" leads to, and the
look-up asks routing what became of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from dialog_contracts import AnswerRated
from dialog_platform.outbox import Pending

from . import repository as repo
from .clients import RoutingClient
from .messages import error
from .models import FollowUpRead, LookupResult, RatingRead, RatingRequest

if TYPE_CHECKING:
    from .lookup import Lookup

Doc = dict[str, Any]


def _millis(at: datetime) -> datetime:
    # What the database keeps: a rating read back compares equal to the one written.
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


async def rating_state(
    db: Any, routing: RoutingClient, *, appeal_id: str, answer: Doc | None, now: datetime,
    window: timedelta,
) -> tuple[RatingRead | None, FollowUpRead | None]:  # fmt: skip
    """The rating of the answer now shown, and what followed it when it was a "no"."""
    found = await repo.get_rating(db, appeal_id=appeal_id)
    if not found or not answer or found["answered_at"] != answer["answered_at"]:
        return None, None  # not rated, or a rating of an answer since replaced
    until = found["first_rated_at"] + window
    rating = RatingRead(
        helped=found["helped"],
        reason=found.get("reason"),
        comment=found.get("comment"),
        rated_at=found["rated_at"],
        changeable_until=until,
        changeable=now <= until,
    )
    if found["helped"]:
        return rating, None
    decided = await routing.dispute(appeal_id)
    # Routing may not have the rating yet, or be down: the citizen's "no" is under review.
    if decided is None or decided.state not in ("follow_up", "confirmed"):
        return rating, FollowUpRead(state="open")
    return rating, FollowUpRead(
        state=decided.state, control_date=decided.control_date, note=decided.note
    )


@dataclass
class Ratings:
    lookup: Lookup
    window: timedelta

    async def rate(self, body: RatingRequest, *, client: str) -> LookupResult:
        if not body.helped and body.reason is None:
            # Checked before the code: a form error must not cost the citizen an attempt.
            raise error(422, "rating_reason_required", field="reason")
        lookup = self.lookup
        appeal = await lookup.verified(body, client=client)
        answer = await repo.get_answer(lookup.db, appeal_id=appeal["_id"])
        if answer is None or "video" in (appeal.get("expired") or {}):
            raise error(409, "not_answered")
        now = _millis(lookup.clock())
        current = await repo.get_rating(lookup.db, appeal_id=appeal["_id"])
        same_answer = current is not None and current["answered_at"] == answer["answered_at"]
        first = current["first_rated_at"] if current and same_answer else now
        if now > first + self.window:
            raise error(409, "rating_closed", values={"days": self.window.days})
        comment = " ".join((body.comment or "").split())
        rating: Doc = {
            "helped": body.helped,
            "reason": None if body.helped else body.reason,
            "comment": None if body.helped or not comment else comment,
            "answered_at": answer["answered_at"],
            "official_id": answer["official_id"],
            "first_rated_at": first,
            "rated_at": now,
        }

        async def save(tx: Pending) -> bool:
            saved = await repo.save_rating(
                lookup.db,
                appeal_id=appeal["_id"],
                rating=rating,
                previous=current["rated_at"] if current else None,
                session=tx.session,
            )
            if not saved:
                return False
            tx.add(
                AnswerRated(
                    appeal_id=appeal["_id"],
                    registration_number=appeal["registration_number"],
                    official_id=answer["official_id"],
                    language=appeal["language"],
                    helped=rating["helped"],
                    reason=rating["reason"],
                    comment=rating["comment"],
                    answered_at=answer["answered_at"],
                    rated_at=now,
                )
            )
            return True

        if not await lookup.outbox.run(save):
            raise error(409, "rating_changed")
        return await lookup.result(appeal)
