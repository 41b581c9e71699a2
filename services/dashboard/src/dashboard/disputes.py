"""Disputed answers: the cases whose citizen said the answer did not help, for the official's
supervisor (the officials they supervise) and the control office (all). Routing keeps the case
and carries out the decision; the audit log here says who decided what."""

from __future__ import annotations

from typing import Any, Literal

from dialog_contracts.routing_api import Confirm, FollowUp

from . import audit
from . import repository as repo
from .models import Account
from .service import Dashboard

Json = dict[str, Any]
Decision = Literal["confirm", "follow_up"]


def scope(account: Account) -> tuple[bool, str | None]:
    """(may see disputes, whose officials): the control office all, an official their own."""
    if account.sees_all_cases:
        return True, None
    if account.official_of is not None:
        return True, account.official_of
    return False, None


async def disputed(dash: Dashboard, account: Account) -> list[Json]:
    """The open disputes this account may settle, each with the answer the citizen rated."""
    allowed, supervisor = scope(account)
    if not allowed:
        return []
    rows = await dash.routing.disputed(supervisor_id=supervisor)
    for row in rows:
        answers = await repo.answers_of(dash.db, appeal_id=row["appeal_id"])
        row["answer"] = answers[-1]["text"] if answers else None
    return rows


async def decide(
    dash: Dashboard,
    account: Account,
    row: Json,
    *,
    decision: Decision,
    note: str,
    ip: str,
) -> Json:
    appeal_id = row["appeal_id"]
    body_type = Confirm if decision == "confirm" else FollowUp
    updated = await dash.routing.act(appeal_id, body_type(note=note, by=account.login))
    await audit.record(
        dash.db,
        at=dash.clock(),
        action="answer_confirm" if decision == "confirm" else "follow_up",
        login=account.login,
        account=account,
        appeal_id=appeal_id,
        detail={
            "official": row["official_id"],
            "reason": row.get("reason"),
            "note": note,
            "control_date": updated.get("control_date") if decision == "follow_up" else None,
        },
        ip=ip,
    )
    return updated
