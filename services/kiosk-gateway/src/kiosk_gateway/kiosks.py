"""Booth credentials: per-kiosk bearer tokens, and the session cookie a booth's browser holds.

A token is given to the booth's launcher once (`/kiosk/enrol?token=…`), which exchanges it for
an HttpOnly cookie; the page itself never sees a credential it could show or leak. The cookie is
honoured only with the `X-Dialog-Kiosk: 1` header, which a cross-site form cannot send.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from dialog_contracts import ReceiptRequested
from dialog_platform.bus import Bus
from dialog_platform.component import Clock

from . import repository as repo
from .messages import error
from .registration import hash_token, new_kiosk_token

SESSION_COOKIE = "dialog_kiosk"
SESSION_HEADER = "X-Dialog-Kiosk"
# Chromium caps cookie lifetimes at 400 days; the launcher re-enrols at every start anyway.
SESSION_MAX_AGE_S = 400 * 24 * 3600
# Writing "last seen" on every request would double the booth's database writes for a figure
# the operators read in minutes.
_LAST_SEEN_EVERY = timedelta(seconds=60)


class KioskExists(Exception):
    pass


@dataclass
class KioskRegistry:
    db: AsyncDatabase[dict[str, Any]]
    bus: Bus
    clock: Clock

    async def register(
        self, kiosk_id: str, location: str, *, rotate: bool = False, center: str | None = None
    ) -> str:
        token = new_kiosk_token()
        now = self.clock()
        created = await repo.insert_kiosk(
            self.db, kiosk_id=kiosk_id, location=location, token_hash=hash_token(token), now=now
        )
        if not created:
            if not rotate:
                raise KioskExists(kiosk_id)
            await repo.rotate_kiosk_token(
                self.db, kiosk_id=kiosk_id, token_hash=hash_token(token), now=now
            )
        if center:
            # The center groups booths for their operator; unset, the location stands for it.
            await repo.set_kiosk_center(self.db, kiosk_id=kiosk_id, center=center)
        # The booth's receipt queue exists from now on, so a receipt requested while its
        # printer-agent is down waits for it instead of being unroutable.
        await self.bus.ensure_queue("printer-agent", ReceiptRequested, kiosk_id)
        return token

    async def revoke(self, kiosk_id: str) -> bool:
        revoked = await repo.revoke_kiosk(self.db, kiosk_id=kiosk_id, now=self.clock())
        if revoked:
            await repo.delete_kiosk_sessions(self.db, kiosk_id=kiosk_id)
        return revoked

    async def list(self) -> list[dict[str, Any]]:
        return await repo.list_kiosks(self.db)

    async def get(self, kiosk_id: str) -> dict[str, Any] | None:
        return await repo.get_kiosk(self.db, kiosk_id=kiosk_id)

    async def ensure_queues(self) -> None:
        for kiosk in await repo.list_kiosks(self.db):
            if kiosk.get("revoked_at") is None:
                await self.bus.ensure_queue("printer-agent", ReceiptRequested, kiosk["_id"])

    async def _valid(self, kiosk: dict[str, Any] | None) -> dict[str, Any]:
        if kiosk is None:
            raise error(401, "no_token", headers={"WWW-Authenticate": "Bearer"})
        if kiosk.get("revoked_at") is not None:
            raise error(401, "revoked_token", headers={"WWW-Authenticate": "Bearer"})
        now = self.clock()
        seen = kiosk.get("last_seen_at")
        if seen is None or seen < now - _LAST_SEEN_EVERY:
            await repo.touch_kiosk(self.db, kiosk_id=kiosk["_id"], now=now)
        return kiosk

    async def authenticate(self, token: str | None) -> dict[str, Any]:
        if not token:
            raise error(401, "no_token", headers={"WWW-Authenticate": "Bearer"})
        return await self._valid(
            await repo.find_kiosk_by_token(self.db, token_hash=hash_token(token))
        )

    async def authenticate_session(self, session: str) -> dict[str, Any]:
        found = await repo.find_kiosk_session(self.db, session_hash=hash_token(session))
        if found is None:
            raise error(401, "no_token")
        kiosk = await repo.get_kiosk(self.db, kiosk_id=found["kiosk_id"])
        # A rotated token ends the sessions enrolled with the old one.
        if kiosk is not None and kiosk.get("token_hash") != found["token_hash"]:
            kiosk = None
        return await self._valid(kiosk)

    async def enrol(self, token: str) -> str | None:
        """Exchange a kiosk token for a new session; the booth's older sessions end."""
        kiosk = await repo.find_kiosk_by_token(self.db, token_hash=hash_token(token))
        if kiosk is None or kiosk.get("revoked_at") is not None:
            return None
        session = secrets.token_urlsafe(32)
        await repo.delete_kiosk_sessions(self.db, kiosk_id=kiosk["_id"])
        await repo.insert_kiosk_session(
            self.db,
            session_hash=hash_token(session),
            kiosk_id=kiosk["_id"],
            token_hash=kiosk["token_hash"],
            now=self.clock(),
        )
        return session
