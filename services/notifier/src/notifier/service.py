"""notifier's logic: what to send to whom, exactly once per (appeal, purpose, recipient)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from dialog_platform import tracing
from dialog_platform.component import Clock
from dialog_platform.phones import mask_phone

from . import metrics
from . import repository as repo
from .smsc import DELIVERED, STATUS_NOT_FOUND, PermanentSmsError, SmscClient, TransientSmsError
from .templates import Language, render

log = logging.getLogger(__name__)

# A send in flight is leased this long; one left by a dead process is taken up after it.
LEASE_S = 30.0
MAX_BACKOFF_S = 60
IDLE_S = 1.0
# Senders at once: an SMSC call takes tens of milliseconds, so one sender alone would leave most
# of a burst (a morning's routed appeals) waiting on the one before it.
SENDERS = 8


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
    timezone: tzinfo
    # One token per new notification, so it wakes one sender, not all of them: each woken
    # sender costs the database a lease query, and eight per SMS were a third of the
    # notifier's queries at a region's peak.
    ready: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(0))
    # A token stands for one new SMS, so its sender leases one and goes back to wait: looking
    # again until nothing is left cost an empty lease query per SMS. At start, and when the
    # loop's own look finds SMS come due (retries, quiet hours over), the senders drain instead.
    _drain: bool = field(default=True, init=False, repr=False)

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
        """Record `out` to be sent (once per key); return the notification's state.

        Only our own database is touched, so SMSC being down is never the handler's problem:
        the sender (`send_due`, woken right after) delivers it, retrying for as long as it takes.
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
                "state": repo.HELD if hold else repo.PENDING,
                "not_before": self.quiet_hours_end(now) if hold else now,
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
                # The sender loop sends it later; the SMS stays in the trace that asked for it.
                "trace": tracing.carrier(),
            },
        )
        if created:
            self.ready.release()
            if hold:
                metrics.sms_held(out.purpose)
        return str(stored["state"])

    async def send_due(self, *, limit: int = 100) -> int:
        """Send what is due (new, out of quiet hours, or retried after backoff); return how
        many went out. Each one is leased first, so replicas never send the same one at once."""
        sent = 0
        for _ in range(limit):
            now = self.clock()
            leased = await repo.lease_due(self.db, now=now, lease=timedelta(seconds=LEASE_S))
            if leased is None:
                break
            with tracing.resumed(
                leased.get("trace"), "notifier send SMS", purpose=leased["purpose"]
            ):
                state = await self._send(leased)
            metrics.sms_outcome(leased["purpose"], state)
            if state == repo.SENT:
                sent += 1
        return sent

    async def _send(self, leased: dict[str, Any]) -> str:
        key = leased["_id"]
        now = self.clock()
        if self.smsc is None:
            log.warning("no SMS gateway configured; SMS recorded, not sent", extra={"key": key})
            await repo.set_state(
                self.db, key=key, state=repo.FAILED, now=now, reason="no SMS gateway configured"
            )
            return repo.FAILED
        try:
            if leased["previous_state"] == repo.SENDING:
                # The last attempt may have reached SMSC before it failed or the process died:
                # ask first, by our own message id.
                status = await self.smsc.status(leased["phone"], message_id=leased["message_id"])
                if status != STATUS_NOT_FOUND:
                    state = repo.DELIVERED if status in DELIVERED else repo.SENT
                    await repo.set_state(self.db, key=key, state=state, now=now, smsc_status=status)
                    return state
            result = await self.smsc.send(
                leased["phone"], leased["text"], message_id=leased["message_id"]
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
            # Still `sending`, so the next attempt asks SMSC before sending again; never given
            # up, only spaced out.
            delay = min(MAX_BACKOFF_S, 2 ** min(int(leased.get("attempts", 1)), 10))
            await repo.set_state(
                self.db,
                key=key,
                state=repo.SENDING,
                now=self.clock(),
                not_before=self.clock() + timedelta(seconds=delay),
                last_error=exc.reason,
            )
            log.warning(
                "SMS gateway unavailable; will retry",
                extra={"key": key, "reason": exc.reason, "retry_in_s": delay},
            )
            return repo.SENDING
        await repo.set_state(
            self.db,
            key=key,
            state=repo.SENT,
            now=self.clock(),
            smsc_id=result.smsc_id,
            parts=result.parts,
            sent_at=self.clock(),
        )
        log.info("SMS sent", extra={"key": key, "phone": leased["phone"]})
        return repo.SENT

    async def release_held(self) -> int:
        """Send what is due, the officials' messages whose quiet hours are over included."""
        return await self.send_due()

    async def run(self, *, idle_s: float = IDLE_S, senders: int = SENDERS) -> None:
        """The senders, each woken by a new notification; every `idle_s` one look for what
        came due since (retries after backoff, the end of quiet hours) wakes them all."""
        await asyncio.gather(
            self._watch_due(idle_s, senders), *(self._sender() for _ in range(senders))
        )

    async def _sender(self) -> None:
        while True:
            try:
                if self._drain:
                    await self.send_due()
                    # Nothing left; a look that finds more sets it again.
                    self._drain = False
                else:
                    await self.send_due(limit=1)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sending due SMS failed; will retry")
            await self.ready.acquire()

    async def _watch_due(self, idle_s: float, senders: int) -> None:
        while True:
            await asyncio.sleep(idle_s)
            try:
                due = await repo.any_due(self.db, now=self.clock())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("looking for due SMS failed; will retry")
                continue
            if due:
                self._drain = True
            # Tokens still unspent mean senders are on their way already.
            if due and self.ready.locked():
                for _ in range(senders):
                    self.ready.release()

    async def notifications(self, appeal_id: str) -> list[dict[str, Any]]:
        return [
            {
                "purpose": d["purpose"],
                # Gone once the storage period is over.
                "phone": mask_phone(d.get("phone")) or None,
                "text": d.get("text"),
                "language": d["language"],
                "state": d["state"],
                "reason": d.get("reason"),
                "attempts": d.get("attempts", 0),
                "created_at": d["created_at"],
                "sent_at": d.get("sent_at"),
            }
            for d in await repo.for_appeal(self.db, appeal_id=appeal_id)
        ]
