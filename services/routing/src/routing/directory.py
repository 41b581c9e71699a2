"""The officials directory: who can be addressed, who covers for whom, and their photos."""

from __future__ import annotations

import hashlib
import io
import logging
import warnings
from dataclasses import dataclass
from datetime import date
from typing import Any

from PIL import Image

from dialog_platform.calendar import local_date
from dialog_platform.component import Clock
from dialog_platform.errors import ApiError
from dialog_platform.outbox import Outbox, Pending

from . import repository as repo
from .messages import error
from .models import Deputy, OfficialCreate, OfficialUpdate
from .photos import placeholder_portrait
from .present import acting_deputy_id, official_changed, official_contact_changed, public_official

log = logging.getLogger(__name__)

Doc = dict[str, Any]
MAX_PHOTO_BYTES = 2 * 1024 * 1024
PHOTO_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}
# A deputy standing in for a deputy: followed this far, and never round in a circle.
MAX_DEPUTY_HOPS = 3


def _deputy_doc(deputy: Deputy) -> Doc:
    return {
        "deputy_id": deputy.deputy_id,
        "from": deputy.from_.isoformat(),
        "to": deputy.to.isoformat(),
    }


def check_photo(data: bytes, content_type: str) -> None:
    """Refuse anything that is not a whole, decodable image of the declared type."""
    expected = PHOTO_FORMATS.get(content_type.split(";")[0].strip().lower())
    if expected is None:
        raise error(415, "photo_type", field="photo")
    if len(data) > MAX_PHOTO_BYTES:
        raise error(413, "photo_too_large", field="photo")
    try:
        with warnings.catch_warnings():
            # A small file that decodes to a huge bitmap is refused, not decoded.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image.verify()
            with Image.open(io.BytesIO(data)) as image:
                fmt = image.format
                image.load()
    except Exception as exc:  # Pillow raises many kinds; each means the same to the admin
        raise error(422, "photo_invalid", field="photo") from exc
    if fmt != expected:
        raise error(422, "photo_invalid", field="photo")


@dataclass
class Directory:
    db: repo.Db
    clock: Clock
    outbox: Outbox

    def today(self) -> date:
        return local_date(self.clock())

    async def _announce(self, tx: Pending, official_id: str) -> None:
        """The official's new state as events, in the transaction that changed it."""
        doc = await repo.get_official(
            self.db, official_id=official_id, with_phone=True, session=tx.session
        )
        assert doc is not None
        photo = await repo.get_photo(self.db, official_id=official_id, session=tx.session)
        tx.add(official_changed(doc, photo))
        tx.add(official_contact_changed(doc))

    async def snapshot(self, audience: str) -> list[Doc]:
        """Every official (inactive too) as its latest event's data, for a read model's sync."""
        docs = await repo.all_officials(self.db)
        if audience == "contact":
            return [official_contact_changed(d).model_dump(mode="json") for d in docs]
        result = []
        for d in docs:
            photo = await repo.get_photo(self.db, official_id=d["_id"])
            result.append(official_changed(d, photo).model_dump(mode="json"))
        return result

    async def stamp_versions(self) -> None:
        """Officials stored before versions were kept start at 1 (announced by the snapshot)."""
        await self.db.officials.update_many(
            {"version": {"$exists": False}}, {"$set": {"version": 1}}
        )

    async def seed(self, officials: list[Doc]) -> int:
        """Load officials into an empty directory; a directory with anyone in it is left alone."""
        if await repo.count_officials(self.db):
            return 0
        now = self.clock()
        for order, o in enumerate(officials):
            png = placeholder_portrait(o.get("color", "#445566"))
            official: Doc = {
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
                "deputy": None,
                "photo": {
                    "content_type": "image/png",
                    "data": png,
                    "etag": hashlib.sha256(png).hexdigest()[:16],
                },
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }

            async def write(tx: Pending, official: Doc = official) -> None:
                await repo.upsert_official(self.db, official=official, session=tx.session)
                await self._announce(tx, official["_id"])

            await self.outbox.run(write)
        log.info("officials directory seeded", extra={"count": len(officials)})
        return len(officials)

    async def _views(self, docs: list[Doc]) -> list[Doc]:
        today = self.today()
        wanted = sorted({d for o in docs if (d := acting_deputy_id(o, today))})
        deputies = await repo.get_officials(self.db, ids=wanted) if wanted else {}
        return [
            public_official(o, acting=deputies.get(acting_deputy_id(o, today) or "")) for o in docs
        ]

    async def officials(self, *, active_only: bool = True) -> list[Doc]:
        return await self._views(await repo.list_officials(self.db, active_only=active_only))

    async def official(self, official_id: str) -> Doc | None:
        doc = await repo.get_official(self.db, official_id=official_id)
        return (await self._views([doc]))[0] if doc else None

    async def _internal_view(self, official_id: str) -> Doc:
        doc = await repo.get_official(self.db, official_id=official_id, with_phone=True)
        if doc is None:
            raise error(404, "official_not_found")
        [view] = await self._views([doc])
        return {**view, "phone": doc.get("phone")}

    async def contact(self, official_id: str) -> Doc | None:
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

    async def photo(self, official_id: str) -> Doc | None:
        return await repo.get_photo(self.db, official_id=official_id)

    async def handler_for(self, official_id: str, day: date) -> tuple[str, Doc | None]:
        """Who handles a new appeal to `official_id` on `day`, the official or the acting deputy,
        and their public record (None for an id the directory does not hold)."""
        handler = official_id
        doc = await repo.get_official(self.db, official_id=handler)
        seen = {official_id}
        for _ in range(MAX_DEPUTY_HOPS):
            deputy_id = acting_deputy_id(doc, day) if doc else None
            if deputy_id is None or deputy_id in seen:
                break
            deputy = await repo.get_official(self.db, official_id=deputy_id)
            if deputy is None or not deputy.get("active", True):
                break  # a deputy who left cannot take cases; the official's inbox keeps them
            seen.add(deputy_id)
            handler, doc = deputy_id, deputy
        return handler, doc

    async def _check_links(
        self, official_id: str, *, supervisor_id: str | None, deputy: Deputy | None
    ) -> None:
        if supervisor_id is not None and (
            supervisor_id == official_id
            or await repo.get_official(self.db, official_id=supervisor_id) is None
        ):
            raise error(422, "supervisor_invalid", field="supervisor_id")
        if deputy is not None:
            found = await repo.get_official(self.db, official_id=deputy.deputy_id)
            if deputy.deputy_id == official_id or found is None or not found.get("active", True):
                raise error(422, "deputy_invalid", field="deputy.deputy_id")
            if deputy.from_ > deputy.to:
                raise error(422, "dates_invalid", field="deputy.to")

    async def create(self, body: OfficialCreate) -> Doc:
        if await repo.get_official(self.db, official_id=body.id) is not None:
            raise error(409, "official_exists", field="id")
        await self._check_links(body.id, supervisor_id=body.supervisor_id, deputy=body.deputy)
        now = self.clock()
        doc: Doc = {
            "_id": body.id,
            "order": await repo.next_order(self.db),
            **body.model_dump(include={"full_name", "position", "competence", "department"}),
            "supervisor_id": body.supervisor_id,
            "phone": body.phone,
            "language": body.language,
            "active": body.active,
            "deputy": _deputy_doc(body.deputy) if body.deputy else None,
            "created_at": now,
            "updated_at": now,
            "updated_by": body.by,
            "version": 1,
        }

        async def write(tx: Pending) -> None:
            await repo.insert_official(self.db, official=doc, session=tx.session)
            await self._announce(tx, body.id)

        try:
            await self.outbox.run(write)
        except Exception as exc:  # two admins creating the same id at once
            if await repo.get_official(self.db, official_id=body.id) is not None:
                raise error(409, "official_exists", field="id") from exc
            raise
        log.info("official created", extra={"official_id": body.id, "by": body.by})
        return await self._internal_view(body.id)

    async def update(self, official_id: str, body: OfficialUpdate) -> Doc:
        if await repo.get_official(self.db, official_id=official_id) is None:
            raise error(404, "official_not_found")
        given = body.model_fields_set - {"by"}
        for name in ("full_name", "position", "competence", "department", "language", "active"):
            if name in given and getattr(body, name) is None:
                raise ApiError(422, "invalid", field=name)
        await self._check_links(
            official_id,
            supervisor_id=body.supervisor_id if "supervisor_id" in given else None,
            deputy=body.deputy if "deputy" in given else None,
        )
        changes: Doc = body.model_dump(include=given - {"deputy"})
        if "deputy" in given:
            changes["deputy"] = _deputy_doc(body.deputy) if body.deputy else None
        changes["updated_at"] = self.clock()
        changes["updated_by"] = body.by

        async def write(tx: Pending) -> None:
            await repo.update_official(
                self.db, official_id=official_id, changes=changes, unset=[], session=tx.session
            )
            await self._announce(tx, official_id)

        await self.outbox.run(write)
        log.info(
            "official updated",
            extra={"official_id": official_id, "fields": sorted(given), "by": body.by},
        )
        return await self._internal_view(official_id)

    async def set_photo(self, official_id: str, data: bytes, content_type: str) -> Doc:
        if await repo.get_official(self.db, official_id=official_id) is None:
            raise error(404, "official_not_found")
        check_photo(data, content_type)
        photo = {
            "content_type": content_type.split(";")[0].strip().lower(),
            "data": data,
            "etag": hashlib.sha256(data).hexdigest()[:16],
        }

        async def write(tx: Pending) -> None:
            await repo.set_photo(
                self.db, official_id=official_id, photo=photo, now=self.clock(), session=tx.session
            )
            await self._announce(tx, official_id)

        await self.outbox.run(write)
        return await self._internal_view(official_id)
