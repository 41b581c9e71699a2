"""kiosk-gateway's logic: kiosks, appeal intake, registration, receipts, the citizens' look-up."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from dialog_contracts import (
    AppealRecorded,
    ApplicantIdentified,
    ReceiptFailed,
    ReceiptPrinted,
    VideoRef,
)
from dialog_platform.bus import Bus
from dialog_platform.clients import MediaClient, Refused, Unavailable
from dialog_platform.component import Clock
from dialog_platform.outbox import Outbox, Pending
from dialog_platform.streams import capped, coalesce

from . import consent, metrics
from . import repository as repo
from .deadlines import compute_deadlines, local_date
from .directory import DirectoryReplica
from .identity import (
    InvalidFullName,
    InvalidIin,
    InvalidPhone,
    normalize_phone,
    validate_full_name,
    validate_iin,
)
from .messages import error
from .models import (
    AppealCreate,
    AppealCreated,
    AppealStatus,
    AppealSubmitted,
    Limits,
    OfficialRead,
    ReceiptState,
    VideoStored,
)
from .receipts import receipt_requested
from .registration import (
    format_number,
    hash_access_code,
    new_access_code,
    off_loop,
)
from .settings import KioskGatewaySettings

log = logging.getLogger(__name__)


@dataclass
class Gateway:
    db: AsyncDatabase[dict[str, Any]]
    outbox: Outbox
    bus: Bus
    settings: KioskGatewaySettings
    directory: DirectoryReplica
    media: MediaClient
    public_url: str
    clock: Clock

    # Directory

    async def officials(self) -> list[OfficialRead]:
        return [
            OfficialRead(
                id=o["_id"],
                full_name=o["full_name"],
                position=o["position"],
                competence=o["competence"],
                # The etag in the URL: a new photo is a new URL, past any cache.
                photo_url=f"/api/v1/officials/{o['_id']}/photo?v={_etag(o)}",
                acting=o.get("acting"),
            )
            for o in await self.directory.officials(local_date(self.clock()))
        ]

    async def photo(self, official_id: str) -> tuple[bytes, str, str] | None:
        return await self.directory.photo(official_id)

    # Intake

    def _validate_identity(self, body: AppealCreate) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if not body.consent:
            raise error(422, "consent_required", field="consent")
        version = body.consent_version or consent.current()
        if not consent.known(version):
            raise error(422, "consent_version_unknown", field="consent_version")
        fields["consent_version"] = version
        try:
            fields["phone"] = normalize_phone(body.phone)
        except InvalidPhone as exc:
            code = {"not_kz": "phone_not_kz", "not_mobile": "phone_not_mobile"}.get(
                exc.reason, "phone_invalid"
            )
            raise error(422, code, field="phone") from exc
        if self.settings.require_identity or body.full_name:
            if not body.full_name:
                raise error(422, "name_required", field="full_name")
            try:
                fields["full_name"] = validate_full_name(body.full_name)
            except InvalidFullName as exc:
                raise error(422, "name_invalid", field="full_name") from exc
        if self.settings.require_identity or body.iin:
            if not body.iin:
                raise error(422, "iin_required", field="iin")
            try:
                fields["iin"] = validate_iin(body.iin, today=local_date(self.clock()))
            except InvalidIin as exc:
                raise error(422, "iin_invalid", field="iin") from exc
        return fields

    async def create_appeal(self, kiosk: dict[str, Any], body: AppealCreate) -> AppealCreated:
        fields = self._validate_identity(body)
        official = await self.directory.official(body.official_id)
        if official is None:
            raise error(422, "unknown_official", field="official_id")
        if not official.get("active", True):
            raise error(422, "official_inactive", field="official_id")
        now = self.clock()
        appeal_id = uuid.uuid4().hex
        expires_at = now + timedelta(seconds=self.settings.draft_ttl_s)
        await repo.insert_appeal(
            self.db,
            appeal={
                "_id": appeal_id,
                "status": "draft",
                "kiosk_id": kiosk["_id"],
                "official_id": body.official_id,
                "language": body.language,
                "category": body.category,
                "consent_at": now,
                "created_at": now,
                "updated_at": now,
                "expires_at": expires_at,
                "video": None,
                **fields,
            },
        )
        return AppealCreated(
            appeal_id=appeal_id,
            upload_url=f"/api/v1/appeals/{appeal_id}/video",
            submit_url=f"/api/v1/appeals/{appeal_id}/submit",
            limits=Limits(
                base_duration_s=self.settings.base_duration_s,
                extension_s=self.settings.extension_s,
                max_duration_s=self.settings.max_duration_s,
                max_bytes=self.settings.max_video_bytes,
            ),
            expires_at=expires_at,
        )

    async def discard(self, kiosk: dict[str, Any], appeal_id: str) -> None:
        """The citizen left or started over: the draft and its video go at once, not in an hour."""
        appeal = await self._own_appeal(kiosk, appeal_id)
        if appeal["status"] == "submitted":
            raise error(409, "appeal_submitted")
        if await repo.delete_draft(self.db, appeal_id=appeal_id) and appeal.get("video"):
            await self.media.delete(appeal["video"]["key"])

    async def _own_appeal(self, kiosk: dict[str, Any], appeal_id: str) -> dict[str, Any]:
        appeal = await repo.get_appeal(self.db, appeal_id=appeal_id)
        # Another kiosk's appeal is answered exactly like a missing one.
        if appeal is None or appeal["kiosk_id"] != kiosk["_id"]:
            raise error(404, "appeal_not_found")
        return appeal

    async def upload_video(
        self,
        kiosk: dict[str, Any],
        appeal_id: str,
        body: AsyncIterator[bytes],
        *,
        content_length: int | None,
    ) -> VideoStored:
        appeal = await self._own_appeal(kiosk, appeal_id)
        if appeal["status"] == "submitted":
            raise error(409, "appeal_submitted")
        if appeal["expires_at"] < self.clock():
            raise error(410, "appeal_expired")
        limit = self.settings.max_video_bytes
        if content_length is not None and content_length > limit:
            raise error(413, "video_too_large")

        # A new key per attempt: "record again" never overwrites a good video with a bad one.
        key = f"appeals/{appeal_id}/{uuid.uuid4().hex}.webm"
        state = {"received": 0, "over": False}

        def too_large() -> BaseException:
            state["over"] = True
            return error(413, "video_too_large")

        async def limited() -> AsyncIterator[bytes]:
            async for chunk in coalesce(capped(body, limit, too_large)):
                state["received"] += len(chunk)
                yield chunk

        try:
            stored = await self.media.put_video(key, limited())
        except (Refused, Unavailable) as exc:
            await self.media.delete(key)
            if state["over"]:
                raise error(413, "video_too_large") from exc
            # An outage is media-store's own 503; a refusal keeps its status and reason.
            said = (exc.status, exc.code) if isinstance(exc, Refused) else (503, "")
            code = {
                413: "video_too_large",
                415: "video_not_webm",
                422: "video_too_long",
            }.get(said[0], "storage_unavailable")
            if said[1] in ("video_invalid", "video_interrupted"):
                code = said[1]
            status = said[0] if said[0] in (413, 415, 422) else 503
            raise error(status, code) from exc
        except BaseException:
            await self.media.delete(key)
            if state["over"]:
                raise error(413, "video_too_large") from None
            raise
        if stored.get("size") != state["received"]:
            # media-store hashes what it stores; a size mismatch means the stream was cut
            # somewhere between, and such a video is never registered.
            await self.media.delete(key)
            raise error(422, "video_interrupted")
        video = {
            "key": key,
            "size": stored["size"],
            "sha256": stored["sha256"],
            "duration_s": stored["duration_s"],
            "content_type": "video/webm",
        }
        previous = await repo.set_video(
            self.db,
            appeal_id=appeal_id,
            video=video,
            expected_status=("draft", "uploaded"),
            now=self.clock(),
        )
        if previous is None:
            await self.media.delete(key)
            raise error(409, "appeal_submitted")
        if previous.get("video"):
            await self.media.delete(previous["video"]["key"])
        return VideoStored(
            appeal_id=appeal_id,
            size=video["size"],
            duration_s=video["duration_s"],
            sha256=video["sha256"],
        )

    def tracking_url(self) -> str:
        return f"{self.public_url.rstrip('/')}/track"

    async def submit(self, kiosk: dict[str, Any], appeal_id: str) -> tuple[AppealSubmitted, bool]:
        """Register the appeal; returns (result, created). A repeated submit returns the same."""
        appeal = await self._own_appeal(kiosk, appeal_id)
        if appeal["status"] == "submitted":
            return self._submitted(appeal), False
        if appeal["status"] != "uploaded" or not appeal.get("video"):
            raise error(409, "video_missing")
        official = await self.directory.official(appeal["official_id"])
        if official is None:
            raise error(422, "unknown_official", field="official_id")
        code = new_access_code()
        code_hash = await off_loop(hash_access_code, code)
        now = self.clock()
        deadlines = compute_deadlines(now)
        url = self.tracking_url()

        async def register(tx: Pending) -> dict[str, Any] | None:
            seq = await repo.next_sequence(self.db, year=now.year, session=tx.session)
            number = format_number(now.year, seq)
            fields = {
                "registration_number": number,
                "access_code_hash": code_hash,
                # Readable only until the receipt is out, so a repeated submit can show it again.
                "access_code_pending": code,
                "registered_at": now,
                "control_date": deadlines.control_date.isoformat(),
                "legal_deadline": deadlines.legal_deadline.isoformat(),
                "updated_at": now,
                "receipts": {"1": {"status": "pending"}},
            }
            if not await repo.mark_submitted(
                self.db, appeal_id=appeal_id, fields=fields, session=tx.session
            ):
                return None
            video = appeal["video"]
            tx.add(
                AppealRecorded(
                    appeal_id=appeal_id,
                    registration_number=number,
                    kiosk_id=kiosk["_id"],
                    official_id=appeal["official_id"],
                    category=appeal["category"],
                    language=appeal["language"],
                    phone=appeal["phone"],
                    recorded_at=now,
                    control_date=deadlines.control_date,
                    legal_deadline=deadlines.legal_deadline,
                    video=VideoRef(
                        key=video["key"],
                        duration_s=video["duration_s"],
                        size=video["size"],
                        sha256=video["sha256"],
                    ),
                )
            )
            if appeal.get("full_name") or appeal.get("iin"):
                # Bound to the dashboard's queue only: no other service gets name or IIN.
                tx.add(
                    ApplicantIdentified(
                        appeal_id=appeal_id,
                        registration_number=number,
                        full_name=appeal.get("full_name"),
                        iin=appeal.get("iin"),
                    )
                )
            tx.add(
                receipt_requested(
                    {**appeal, **fields}, kiosk, official, copy=1, code=code, tracking_url=url
                )
            )
            return {**appeal, **fields, "status": "submitted"}

        updated = await self.outbox.run(register)
        if updated is None:
            # Another request registered it meanwhile; answer with that registration.
            again = await self._own_appeal(kiosk, appeal_id)
            return self._submitted(again), False
        log.info("appeal registered", extra={"appeal_id": appeal_id, "kiosk": kiosk["_id"]})
        metrics.appeal_registered(kiosk["_id"], updated["language"], updated["category"])
        return self._submitted(updated), True

    def _submitted(self, appeal: dict[str, Any]) -> AppealSubmitted:
        code = appeal.get("access_code_pending")
        if code is None:
            raise error(409, "appeal_submitted")
        return AppealSubmitted(
            appeal_id=appeal["_id"],
            registration_number=appeal["registration_number"],
            access_code=code,
            registered_at=appeal["registered_at"],
            control_date=date.fromisoformat(appeal["control_date"]),
            legal_deadline=date.fromisoformat(appeal["legal_deadline"]),
            tracking_url=self.tracking_url(),
        )

    async def appeal_status(self, kiosk: dict[str, Any], appeal_id: str) -> AppealStatus:
        appeal = await self._own_appeal(kiosk, appeal_id)
        receipt = (appeal.get("receipts") or {}).get("1")
        return AppealStatus(
            appeal_id=appeal_id,
            status=appeal["status"],
            registration_number=appeal.get("registration_number"),
            receipt=ReceiptState(**receipt) if receipt else None,
        )

    # Receipts

    async def receipt_printed(self, event: ReceiptPrinted) -> None:
        await repo.record_receipt(
            self.db,
            appeal_id=event.appeal_id,
            copy_number=event.copy_number,
            state={"status": "printed", "at": event.printed_at},
            clear_pending_code=True,
        )
        metrics.receipt(event.kiosk_id, printed=True)

    async def receipt_failed(self, event: ReceiptFailed) -> None:
        # The booth shows the number and code on screen when printing failed; it learns of the
        # failure by polling the appeal's status, so the code stays readable a while longer.
        await repo.record_receipt(
            self.db,
            appeal_id=event.appeal_id,
            copy_number=event.copy_number,
            state={"status": "failed", "reason": event.reason, "at": event.failed_at},
            clear_pending_code=False,
        )
        metrics.receipt(event.kiosk_id, printed=False)

    # Housekeeping

    async def expire_drafts(self) -> int:
        """Remove drafts nobody submitted (the citizen walked away) and their videos."""
        removed = 0
        for draft in await repo.expired_drafts(self.db, now=self.clock()):
            if draft.get("video"):
                await self.media.delete(draft["video"]["key"])
            if await repo.delete_draft(self.db, appeal_id=draft["_id"]):
                removed += 1
        return removed


def _etag(official: dict[str, Any]) -> str:
    return str((official.get("photo") or {}).get("etag", "none"))
