"""The gateway's own read model of routing's officials directory.

Filled from OfficialChanged (public fields and photo only; the SMS phone never comes here) and,
on first start or after a gap, from routing's snapshot. The picker, the photos, intake and the
receipt's official all read it, so the booth keeps working while routing is down.
"""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

from pymongo import ASCENDING

from dialog_contracts import OfficialChanged, acting_deputy_id
from dialog_platform.replica import Replica, Row, Snapshot

Doc = dict[str, Any]
COLLECTION = "officials"


def _fields(event: OfficialChanged) -> Doc:
    photo = None
    if event.photo is not None:
        photo = {
            "etag": event.photo.etag,
            "content_type": event.photo.content_type,
            "data": base64.b64decode(event.photo.data) if event.photo.data else None,
        }
    return {
        "order": event.order,
        "full_name": event.full_name.model_dump(),
        "position": event.position.model_dump(),
        "competence": event.competence.model_dump(),
        "department": event.department.model_dump() if event.department else None,
        "supervisor_id": event.supervisor_id,
        "language": event.language,
        "active": event.active,
        "deputy": (
            {
                "deputy_id": event.deputy.deputy_id,
                "from": event.deputy.from_.isoformat(),
                "to": event.deputy.to.isoformat(),
            }
            if event.deputy
            else None
        ),
        "photo": photo,
    }


class DirectoryReplica(Replica[OfficialChanged]):
    """Kept from routing (`producer`, the routing API)."""

    collection_name = COLLECTION
    event = OfficialChanged
    source = Snapshot(
        "/api/v1/directory/snapshot", "officials", params={"audience": "public"}, timeout_s=60.0
    )

    def row(self, event: OfficialChanged) -> Row:
        return event.official_id, event.version, _fields(event)

    async def official(self, official_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": official_id}, {"photo.data": 0})

    async def officials(self, today: date) -> list[Doc]:
        """The active officials in the directory's order, with whoever covers for them today."""
        cursor = self.collection.find(
            {"active": True}, {"photo.data": 0}, sort=[("order", ASCENDING), ("_id", ASCENDING)]
        )
        docs = [d async for d in cursor]
        wanted = sorted({d for o in docs if (d := acting_deputy_id(o.get("deputy"), today))})
        deputies: dict[str, Doc] = {}
        if wanted:
            found = self.collection.find({"_id": {"$in": wanted}}, {"photo.data": 0})
            deputies = {d["_id"]: d async for d in found}
        for o in docs:
            deputy = deputies.get(acting_deputy_id(o.get("deputy"), today) or "")
            o["acting"] = (
                {
                    "deputy_id": deputy["_id"],
                    "full_name": deputy["full_name"],
                    "position": deputy["position"],
                    "until": o["deputy"]["to"],
                }
                if deputy is not None
                else None
            )
        return docs

    async def photo(self, official_id: str) -> tuple[bytes, str, str] | None:
        """(bytes, content type, quoted etag) of an official's photo, or None."""
        doc = await self.collection.find_one({"_id": official_id}, {"photo": 1})
        photo = (doc or {}).get("photo")
        if not photo or photo.get("data") is None:
            return None
        return bytes(photo["data"]), photo["content_type"], f'"{photo["etag"]}"'
