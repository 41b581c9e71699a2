"""notifier's logic: what to send to whom, exactly once per (appeal, purpose, recipient)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dialog_platform.component import Clock

from . import repository as repo
from .smsc import DELIVERED, STATUS_NOT_FOUND, PermanentSmsError, SmscClient, TransientSmsError
from .templates import Language, render

log = logging.getLogger(__name__)


def short_url(url: str) -> str:
    """Phones link a bare address; the scheme only costs characters of a 70-character SMS."""
    return url.split("://", 1)[-1].rstrip("/")


def day_month_year(value: date | str) -> str:
    d = date.fromisoformat(value) if isinstance(value, str) else value
    return d.strftime("%d.%m.%Y")


def message_id(key: str) -> str:
    """Our own SMSC message id: stable per notification, so a status look-up finds it."""
    return hashlib.sha256(key.encode()).hexdigest()[:24]


@dataclass
class Outgoing:
    appeal_id: str
    purpose: str
    phone: str
    language: Language
    fields: dict[str, str]
    to_official: bool = False
    urgent: bool = True
    # Tells apart the occasions of one purpose for one appeal and person: a second forward, a
    # new deadline after an extension, the control date and then the legal deadline passing.
    # Taken from the event's own data, so a redelivered event lands on the same key.
    occasion: str = ""

    @property
    def key(self) -> str:
        base = f"{self.appeal_id}:{self.purpose}:{self.phone}"
        return f"{base}:{self.occasion}" if self.occasion else base


@dataclass
class Notifier:
    db: Any
    smsc: SmscClient | None
    clock: Clock
    quiet_start: Any
    quiet_end: Any
    timezone: ZoneInfo

    def in_quiet_hours(self, now: datetime) -> bool:
        local = now.astimezone(self.timezone).time()
        if self.quiet_start <= self.quiet_end:
            return bool(self.quiet_start <= local < self.quiet_end)
        return bool(local >= self.quiet_start or local < self.quiet_end)

    def quiet_hours_end(self, now: datetime) -> datetime:
        local = now.astimezone(self.timezone)
        end = local.replace(
            hour=self.quiet_end.hour, minute=self.quiet_end.minute, second=0, microsecond=0
        )
        if end <= local:
            end += timedelta(days=1)
        return end

    async def notify(self, out: Outgoing) -> str:
        """Send `out` unless it was sent already; return the notification's state.

        The notification is recorded before SMSC is called and marked after. A redelivered
        event finds it done; one left `sending` by a crash is looked up at SMSC by our own
        message id before anything is sent again. A transient failure raises (the bus retries
        with backoff, then dead-letters); a permanent one is recorded and not retried.
        """
        now = self.clock()
        text = render(out.purpose, out.language, **out.fields)
        hold = out.to_official and not out.urgent and self.in_quiet_hours(now)
        stored, created = await repo.claim(
            self.db,
            notification={
                "_id": out.key,
                "appeal_id": out.appeal_id,
                "purpose": out.purpose,
                "phone": out.phone,
                "language": out.language,
                "text": text,
                "message_id": message_id(out.key),
                # A new message is recorded as `sending` before SMSC is called: one write
                # fewer per SMS, and a crash from here on is looked up like any other.
                "state": repo.HELD if hold else repo.SENDING,
                "not_before": self.quiet_hours_end(now) if hold else now,
                "attempts": 0 if hold else 1,
                "created_at": now,
                "updated_at": now,
            },
        )
        if stored["state"] in repo.DONE:
            return str(stored["state"])
        if stored["state"] == repo.HELD and stored["not_before"] > now:
            return repo.HELD
        if created and self.smsc is not None:
            return await self._deliver(stored)
        return await self._send(stored)

    async def _send(self, stored: dict[str, Any]) -> str:
        key = stored["_id"]
        now = self.clock()
        if self.smsc is None:
            log.warning("no SMS gateway configured; SMS recorded, not sent", extra={"key": key})
            await repo.set_state(
                self.db, key=key, state=repo.FAILED, now=now, reason="no SMS gateway configured"
            )
            return repo.FAILED
        if stored["state"] == repo.SENDING:
            # The last attempt may have reached SMSC before the process died: ask first.
            status = await self.smsc.status(stored["phone"], message_id=stored["message_id"])
            if status != STATUS_NOT_FOUND:
                state = repo.DELIVERED if status in DELIVERED else repo.SENT
                await repo.set_state(self.db, key=key, state=state, now=now, smsc_status=status)
                return state
        await repo.start_attempt(self.db, key=key, now=now)
        return await self._deliver(stored)

    async def _deliver(self, stored: dict[str, Any]) -> str:
        """Call SMSC for a notification already recorded as `sending`, and record the outcome."""
        key = stored["_id"]
        assert self.smsc is not None
        try:
            result = await self.smsc.send(
                stored["phone"], stored["text"], message_id=stored["message_id"]
            )
        except PermanentSmsError as exc:
            await repo.set_state(
                self.db,
                key=key,
                state=repo.FAILED,
                now=self.clock(),
                reason=exc.reason,
                error_code=exc.code,
            )
            log.error("SMS refused for good", extra={"key": key, "reason": exc.reason})
            return repo.FAILED
        except TransientSmsError as exc:
            # Still `sending`: the next attempt checks SMSC before sending again.
            await repo.set_state(
                self.db, key=key, state=repo.SENDING, now=self.clock(), last_error=exc.reason
            )
            raise
        await repo.set_state(
            self.db,
            key=key,
            state=repo.SENT,
            now=self.clock(),
            smsc_id=result.smsc_id,
            parts=result.parts,
            sent_at=self.clock(),
        )
        log.info("SMS sent", extra={"key": key, "phone": stored["phone"]})
        return repo.SENT

    async def release_held(self) -> int:
        """Send the officials' messages whose quiet hours are over."""
        sent = 0
        for held in await repo.due_held(self.db, now=self.clock()):
            try:
                await self._send(held)
                sent += 1
            except TransientSmsError:
                # The gateway is down: keep it held and try on the next round.
                await repo.set_state(self.db, key=held["_id"], state=repo.HELD, now=self.clock())
        return sent

    async def notifications(self, appeal_id: str) -> list[dict[str, Any]]:
        return [
            {
                "purpose": d["purpose"],
                "phone": d["phone"][:5] + "*****" + d["phone"][-2:],
                "language": d["language"],
                "state": d["state"],
                "reason": d.get("reason"),
                "attempts": d.get("attempts", 0),
                "created_at": d["created_at"],
                "sent_at": d.get("sent_at"),
            }
            for d in await repo.for_appeal(self.db, appeal_id=appeal_id)
        ]
