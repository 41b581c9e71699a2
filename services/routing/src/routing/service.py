"""routing's logic: the directory and the assignment of appeals to officials."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from dialog_contracts import AppealRecorded, AppealRouted
from dialog_platform.component import Clock
from dialog_platform.outbox import Outbox, Pending

from . import repository as repo
from .photos import placeholder_portrait

log = logging.getLogger(__name__)


def load_seed(path: Path | None) -> list[dict[str, Any]]:
    if path is None:
        text = (
            resources.files("routing").joinpath("seed/officials.json").read_text(encoding="utf-8")
        )
    else:
        text = path.read_text(encoding="utf-8")
    officials: list[dict[str, Any]] = json.loads(text)["officials"]
    return officials


def public_official(doc: dict[str, Any]) -> dict[str, Any]:
    """The directory entry as other services see it (no SMS phone, no photo bytes)."""
    photo = doc.get("photo") or {}
    version = photo.get("etag", "none")
    return {
        "id": doc["_id"],
        "full_name": doc["full_name"],
        "position": doc["position"],
        "competence": doc["competence"],
        "department": doc.get("department"),
        "supervisor_id": doc.get("supervisor_id"),
        "language": doc.get("language", "ru"),
        "active": doc.get("active", True),
        "acting": None,
        "photo_url": f"/api/v1/directory/officials/{doc['_id']}/photo?v={version}",
    }


@dataclass
class Routing:
    db: AsyncDatabase[dict[str, Any]]
    outbox: Outbox
    clock: Clock

    async def seed(self, officials: list[dict[str, Any]]) -> int:
        """Load officials into an empty directory; a directory with anyone in it is left alone."""
        if await repo.count_officials(self.db):
            return 0
        now = self.clock()
        for order, o in enumerate(officials):
            png = placeholder_portrait(o.get("color", "#445566"))
            await repo.upsert_official(
                self.db,
                official={
                    "_id": o["id"],
                    "order": order,
                    "full_name": o["full_name"],
                    "position": o["position"],
                    "competence": o["competence"],
                    "department": o.get("department"),
                    "supervisor_id": o.get("supervisor_id"),
                    "phone": o.get("phone"),
                    "language": o.get("language", "ru"),
                    "active": o.get("active", True),
                    "photo": {
                        "content_type": "image/png",
                        "data": png,
                        "etag": hashlib.sha256(png).hexdigest()[:16],
                    },
                    "created_at": now,
                    "updated_at": now,
                },
            )
        log.info("officials directory seeded", extra={"count": len(officials)})
        return len(officials)

    async def officials(self, *, active_only: bool = True) -> list[dict[str, Any]]:
        return [
            public_official(o) for o in await repo.list_officials(self.db, active_only=active_only)
        ]

    async def official(self, official_id: str) -> dict[str, Any] | None:
        doc = await repo.get_official(self.db, official_id=official_id)
        return public_official(doc) if doc else None

    async def contact(self, official_id: str) -> dict[str, Any] | None:
        """Where to reach an official by SMS; for the notifier only (internal API)."""
        doc = await repo.get_contact(self.db, official_id=official_id)
        if doc is None:
            return None
        return {
            "id": doc["_id"],
            "phone": doc.get("phone"),
            "language": doc.get("language", "ru"),
            "supervisor_id": doc.get("supervisor_id"),
            "full_name": doc.get("full_name"),
        }

    async def photo(self, official_id: str) -> dict[str, Any] | None:
        return await repo.get_photo(self.db, official_id=official_id)

    async def assign(self, event: AppealRecorded) -> bool:
        """Open the case for a recorded appeal; returns False when it was already open."""

        async def open_case(tx: Pending) -> bool:
            if await repo.get_case(self.db, appeal_id=event.appeal_id, session=tx.session):
                return False
            now = self.clock()
            # Deputies acting for an absent official come with the case-handling issue (#4);
            # for now the addressee handles the case.
            handler_id = event.official_id
            await repo.insert_case(
                self.db,
                case={
                    "_id": event.appeal_id,
                    "registration_number": event.registration_number,
                    "addressed_official_id": event.official_id,
                    "official_id": handler_id,
                    "kiosk_id": event.kiosk_id,
                    "category": event.category,
                    "language": event.language,
                    "recorded_at": event.recorded_at,
                    "control_date": event.control_date.isoformat(),
                    "legal_deadline": event.legal_deadline.isoformat(),
                    "video": event.video.model_dump(),
                    "status": "new",
                    "routed_at": now,
                    "history": [{"at": now, "what": "routed", "official_id": handler_id}],
                },
                session=tx.session,
            )
            await tx.add(
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

        return await self.outbox.run(open_case)

    async def case(self, appeal_id: str) -> dict[str, Any] | None:
        doc = await repo.get_case(self.db, appeal_id=appeal_id)
        if doc is None:
            return None
        return {
            "appeal_id": doc["_id"],
            "registration_number": doc["registration_number"],
            "official_id": doc["official_id"],
            "addressed_official_id": doc["addressed_official_id"],
            "status": doc["status"],
            "control_date": date.fromisoformat(doc["control_date"]),
            "legal_deadline": date.fromisoformat(doc["legal_deadline"]),
            "routed_at": doc["routed_at"],
        }
