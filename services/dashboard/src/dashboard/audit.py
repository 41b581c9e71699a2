"""The audit log: who watched, revealed, answered, forwarded, extended, settled a disputed answer
or logged in, and when; and when a citizen rated an answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from . import repository as repo
from .models import Account

ACTIONS = (
    "login",
    "login_failed",
    "logout",
    "video_view",
    "phone_reveal",
    "iin_reveal",
    "note",
    "subject",
    "topic_edit",
    "template_edit",
    "template_delete",
    "answer",
    "answer_correction",
    "forward",
    "extend",
    "answer_rated",
    "answer_confirm",
    "follow_up",
    "directory_create",
    "directory_edit",
    "directory_photo",
    "kiosk_add",
    "kiosk_revoke",
    "account_add",
    "account_deactivate",
    "dlq_replay",
    "dlq_drop",
    "legal_hold",
    "legal_hold_lift",
    "export",
    "retention",
    "reference_create",
    "reference_edit",
    "reference_publish",
    "reference_unpublish",
    "reference_from_answer",
)


async def record(
    db: repo.Db,
    *,
    at: datetime,
    action: str,
    login: str | None,
    account: Account | None = None,
    appeal_id: str | None = None,
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
    session: AsyncClientSession | None = None,
) -> None:
    await repo.insert_audit(
        db,
        entry={
            "at": at,
            "action": action,
            "login": login,
            "role": account.role if account else None,
            "official_id": account.official_id if account else None,
            "appeal_id": appeal_id,
            "detail": detail or {},
            "ip": ip,
        },
        session=session,
    )
