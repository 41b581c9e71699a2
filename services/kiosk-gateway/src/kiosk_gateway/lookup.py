"""What a citizen holding a receipt can do: see the status or the answer, reprint the receipt.

Both need the registration number and the access code, and both are answered alike for a wrong
number and a wrong code (404), behind the same per-client rate limit (per booth for a booth) and
the lockout of wrong codes per number and client (`dialog_platform.ratelimit.Lockout`): a script
guessing one number is locked out of it and slows it down, but cannot lock the citizen out.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from dialog_contracts import AnswerPosted
from dialog_platform.clients import MediaClient, Unavailable
from dialog_platform.component import Clock
from dialog_platform.outbox import Outbox, Pending
from dialog_platform.ratelimit import Locked, Lockout, SlidingWindow

from . import metrics
from . import repository as repo
from .clients import DashboardClient, RoutingClient
from .directory import DirectoryReplica
from .messages import error
from .models import AnswerRead, LookupRequest, LookupResult, ReprintQueued
from .rating import rating_state
from .receipts import receipt_requested
from .registration import (
    InvalidRegistrationNumber,
    access_code_needs_rehash,
    hash_access_code,
    normalize,
    off_loop,
    parse_number,
    verify_access_code,
)
from .retention import destroyed_notice
from .settings import KioskGatewaySettings


@functools.cache
def _dummy_hash() -> str:
    # Made on first use, not at import: argon2 costs a restarting gateway ~0.1 s of CPU.
    return hash_access_code("00000000")


@dataclass
class Lookup:
    db: AsyncDatabase[dict[str, Any]]
    outbox: Outbox
    settings: KioskGatewaySettings
    clock: Clock
    ip_limiter: SlidingWindow
    kiosk_limiter: SlidingWindow
    reprint_limiter: SlidingWindow
    lockout: Lockout
    directory: DirectoryReplica
    media: MediaClient
    dashboard: DashboardClient
    routing: RoutingClient
    tracking_url: str

    async def verified(self, body: LookupRequest, *, client: str) -> dict[str, Any]:
        """The appeal of this number and code, behind the look-up's limits (metrics counted)."""
        return await metrics.counted_lookup(self._verified(body, client=client))

    async def _verified(self, body: LookupRequest, *, client: str) -> dict[str, Any]:
        # A booth has its own budget (`kiosk:<id>`); anybody else the address's.
        limiter = self.kiosk_limiter if client.startswith("kiosk:") else self.ip_limiter
        if not limiter.allow(client):
            raise error(429, "too_many_requests", headers={"Retry-After": "60"})
        try:
            number = normalize(body.registration_number)
        except InvalidRegistrationNumber as exc:
            raise error(422, "number_invalid", field="registration_number") from exc
        year, seq = parse_number(number)
        if seq > await repo.issued_sequence(self.db, year=year):
            # Never issued: nothing to guess, so nothing is counted (and nothing can be locked).
            raise error(404, "lookup_not_found")
        try:
            attempt = await self.lockout.admit(number, client)
        except Locked as exc:
            minutes: dict[str, object] = {"minutes": max(1, round(exc.retry_after_s / 60))}
            raise error(
                429,
                "lookup_locked",
                headers={"Retry-After": str(exc.retry_after_s)},
                values=minutes,
            ) from exc
        appeal = await repo.find_by_number(self.db, registration_number=number)
        code = body.access_code.strip()
        # Verify against a dummy hash when the number is unknown so both answers take as long.
        code_hash: str | None = appeal["access_code_hash"] if appeal else None
        # argon2 takes tens of milliseconds of CPU on purpose (the dummy's too, made on first use).
        matches = await off_loop(lambda: verify_access_code(code_hash or _dummy_hash(), code))
        if appeal is None or not code.isdigit() or not matches:
            left = await self.lockout.failed(attempt)
            # Said before the lock comes, so the citizen checks the receipt or asks the operator.
            if left > 0:
                raise error(404, "lookup_not_found", text="lookup_left", values={"left": left})
            locked: dict[str, object] = {"minutes": max(1, round(self.lockout.lock_s / 60))}
            raise error(404, "lookup_not_found", text="lookup_last", values=locked)
        await self.lockout.succeeded(attempt)
        if code_hash is not None and access_code_needs_rehash(code_hash):
            # The plain code is known only now: a hash made with other parameters is
            # replaced by one with today's, unless another look-up replaced it meanwhile.
            fresh = await off_loop(hash_access_code, code)
            await repo.replace_access_code_hash(
                self.db, appeal_id=appeal["_id"], old=code_hash, new=fresh
            )
        return appeal

    async def lookup(self, body: LookupRequest, *, client: str) -> LookupResult:
        return await self.result(await self.verified(body, client=client))

    async def result(self, appeal: dict[str, Any]) -> LookupResult:
        destroyed = "video" in (appeal.get("expired") or {})
        answered = None if destroyed else await repo.get_answer(self.db, appeal_id=appeal["_id"])
        rating, follow_up = await rating_state(
            self.db,
            self.routing,
            appeal_id=appeal["_id"],
            answer=answered,
            now=self.clock(),
            window=timedelta(days=self.settings.rating_window_days),
        )
        return LookupResult(
            registration_number=appeal["registration_number"],
            status="destroyed" if destroyed else "answered" if answered else "registered",
            notice=destroyed_notice() if destroyed else None,
            registered_at=appeal["registered_at"],
            control_date=date.fromisoformat(appeal["control_date"]),
            legal_deadline=date.fromisoformat(appeal["legal_deadline"]),
            language=appeal["language"],
            official_id=appeal["official_id"],
            answer=await self._answer(appeal["_id"]) if answered else None,
            rating=rating,
            follow_up=follow_up,
        )

    async def _answer(self, appeal_id: str) -> AnswerRead | None:
        current = await self.dashboard.current_answer(appeal_id)
        if current is None or not isinstance(current.get("text"), str):
            return None
        video_url = None
        if current.get("video_key"):
            # Relative URLs (media-store's own signed links) stay relative: the booth and the
            # tracking page reach media-store's paths on the same origin.
            # Without media-store the answer is shown without its video, not as an error.
            with contextlib.suppress(Unavailable):
                video_url = await self.media.playback_url(str(current["video_key"]))
        return AnswerRead(
            text=current["text"], answered_at=current["answered_at"], video_url=video_url
        )

    async def reprint(
        self, kiosk: dict[str, Any], body: LookupRequest, *, client: str
    ) -> ReprintQueued:
        appeal = await self._verified(body, client=client)
        number = appeal["registration_number"]
        if not self.reprint_limiter.allow(number):
            raise error(429, "reprint_limit", headers={"Retry-After": "3600"})
        official = await self.directory.official(appeal["official_id"])
        if official is None:
            raise error(503, "directory_unavailable")
        code = body.access_code.strip()

        async def request(tx: Pending) -> int:
            copy = await repo.next_receipt_copy(
                self.db, appeal_id=appeal["_id"], kiosk_id=kiosk["_id"], session=tx.session
            )
            # Printed at the booth where the citizen stands, which may not be where they recorded.
            tx.add(
                receipt_requested(
                    appeal, kiosk, official, copy=copy, code=code, tracking_url=self.tracking_url
                )
            )
            return copy

        copy = await self.outbox.run(request)
        return ReprintQueued(registration_number=number, copy_number=copy)

    async def answer_posted(self, event: AnswerPosted) -> None:
        await repo.record_answer(
            self.db,
            appeal_id=event.appeal_id,
            answer={
                "answered_at": event.answered_at,
                "official_id": event.official_id,
                "has_video": event.has_video,
            },
        )
