"""The end of an appeal's storage period at the gateway: the citizen's name, IIN and phone go.

The appeal's number, dates, official and the access code's hash stay, so the look-up can still
say that the file was destroyed after its storage period rather than that the number is unknown.
The sent envelopes about the appeal (they carried the phone, the name and the IIN) go too.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from dialog_contracts import AppealExpired
from dialog_platform.outbox import Outbox

from .pages import catalogs

log = logging.getLogger(__name__)

PERSONAL = ("phone", "full_name", "iin")


@cache
def destroyed_notice() -> dict[str, str]:
    """What the look-up says instead of the answer once the file is destroyed (the booth's and
    the tracking page's own words for it)."""
    return {lang: texts["status_destroyed"] for lang, texts in catalogs().items()}


async def forget(db: AsyncDatabase[dict[str, Any]], outbox: Outbox, event: AppealExpired) -> None:
    """Idempotent: a second delivery unsets what is already gone."""
    changes: dict[str, Any] = {f"expired.{kind}": event.expired_at for kind in event.kinds}
    update: dict[str, Any] = {"$set": changes}
    if "personal" in event.kinds:
        update["$unset"] = dict.fromkeys(PERSONAL, "")
    await db.appeals.update_one({"_id": event.appeal_id}, update)
    if "personal" in event.kinds:
        # The citizen's comment on the answer goes with their name and phone.
        await db.ratings.update_one({"_id": event.appeal_id}, {"$unset": {"comment": ""}})
        await outbox.forget(event.appeal_id)
    log.info("appeal file destroyed", extra={"appeal_id": event.appeal_id, "kinds": event.kinds})
