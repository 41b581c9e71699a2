"""Each booth's health: the page's heartbeat, the printer's reports, and silence.

Kept in the gateway's own database (`kiosk_health`, one document per booth). A problem
(offline, printer, camera) is raised once when it starts and cleared once when it ends; each
raise and clear is published as KioskHealthChanged through the outbox in the same
transaction, so the operator's SMS is neither lost nor doubled.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from dialog_contracts import (
    PRINTER_DOWN,
    HealthChange,
    KioskHealthChanged,
    PrinterState,
    PrinterStatusReported,
)
from dialog_platform import metrics
from dialog_platform.calendar import ALMATY, is_working_day
from dialog_platform.component import Clock
from dialog_platform.outbox import Outbox, Pending

from . import repository as repo
from .messages import error
from .models import BoothStatus, Heartbeat
from .settings import KioskGatewaySettings

log = logging.getLogger(__name__)

SERVICE = "kiosk-gateway"
COLLECTION = "kiosk_health"
# The last report of a one-process site's one printer, for booths registered after it.
SHARED_PRINTER = "kiosk_printer_shared"
PRINTER_STATES: tuple[PrinterState, ...] = (
    "ready",
    "paper_near_end",
    "out_of_paper",
    "cover_open",
    "offline",
    "unknown",
)
# The one printer of a one-process site reports for every booth (printer-agent's `*`).
EVERY_KIOSK = "*"
# Optimistic writes: a heartbeat and a printer report racing on one booth retry this often.
_ATTEMPTS = 5

KIOSK_UP = metrics.gauge(
    "dialog_kiosk_up",
    "1 while the booth is heard from (its page's heartbeat), 0 once it is offline: silent "
    "longer than the offline setting within opening hours.",
    ("kiosk", "center"),
)
PRINTER = metrics.gauge(
    "dialog_kiosk_printer_state",
    "1 for the state the booth's receipt printer last reported, 0 for the others.",
    ("kiosk", "state"),
)


class _Conflict(Exception):
    pass


@dataclass
class BoothHealth:
    db: AsyncDatabase[dict[str, Any]]
    outbox: Outbox
    settings: KioskGatewaySettings
    clock: Clock

    @property
    def collection(self) -> Any:
        return self.db[COLLECTION]

    async def create_indexes(self) -> None:
        # The sweep looks for silent booths. Made at start, this also creates the collection
        # outside any transaction: the embedded server cannot undo a collection created inside
        # an aborted one (nor could MongoDB before 4.4 create one there at all).
        await self.collection.create_index("last_seen_at")

    # What booths report

    async def heartbeat(self, kiosk: dict[str, Any], beat: Heartbeat) -> BoothStatus:
        now = self.clock()
        fields = {
            "last_seen_at": now,
            "camera_ok": beat.camera,
            "microphone_ok": beat.microphone,
            "page_version": beat.page_version,
            "last_error": beat.last_error,
        }
        doc = await self._update(kiosk, fields)
        return status_of(doc)

    async def printer_reported(self, event: PrinterStatusReported) -> None:
        if event.kiosk_id == EVERY_KIOSK:
            shared = self.db[SHARED_PRINTER]
            held = await shared.find_one({"_id": EVERY_KIOSK})
            if held is None or held["printer_at"] < event.reported_at:
                await shared.replace_one(
                    {"_id": EVERY_KIOSK},
                    {"_id": EVERY_KIOSK, **_printer_fields(event)},
                    upsert=True,
                )
            targets = [k for k in await repo.list_kiosks(self.db) if k.get("revoked_at") is None]
        else:
            found = await repo.get_kiosk(self.db, kiosk_id=event.kiosk_id)
            if found is None:
                log.warning("printer status of an unknown kiosk", extra={"kiosk": event.kiosk_id})
                return
            targets = [found]
        for kiosk in targets:
            current = await self.collection.find_one({"_id": kiosk["_id"]}) or {}
            at = current.get("printer_at")
            # A redelivered or late report never overwrites a newer one.
            if at is not None and at >= event.reported_at:
                continue
            await self._update(kiosk, _printer_fields(event))

    async def sweep(self) -> int:
        """Raise `offline` for booths silent too long in opening hours; returns how many."""
        now = self.clock()
        if not self.open_at(now):
            return 0
        silent_since = now - timedelta(seconds=self.settings.kiosk_offline_after_s)
        raised = 0
        async for doc in self.collection.find(
            {"last_seen_at": {"$lt": silent_since}, "problems.offline": {"$exists": False}}
        ):
            kiosk = await repo.get_kiosk(self.db, kiosk_id=doc["_id"])
            if kiosk is None or kiosk.get("revoked_at") is not None:
                continue
            await self._update(kiosk, {})
            raised += 1
        return raised

    # What the booth API asks

    async def status(self, kiosk_id: str) -> BoothStatus:
        return status_of(await self.collection.find_one({"_id": kiosk_id}) or {})

    async def require_in_service(self, kiosk: dict[str, Any]) -> None:
        """Refuse to start an appeal the booth could not finish (no camera, no receipt)."""
        if not (await self.status(kiosk["_id"])).appeals:
            raise error(503, "kiosk_out_of_service", headers={"Retry-After": "60"})

    def open_at(self, now: datetime) -> bool:
        local = now.astimezone(ALMATY)
        if self.settings.opening_days == "working" and not is_working_day(local.date()):
            return False
        start, end = self.settings.opening_from, self.settings.opening_until
        return bool(start <= local.time() < end)

    # Gauges

    async def refresh_gauges(self) -> None:
        KIOSK_UP.clear()
        PRINTER.clear()
        async for doc in self.collection.find({}):
            KIOSK_UP.labels(SERVICE, doc["_id"], doc.get("center", "")).set(
                0 if "offline" in (doc.get("problems") or {}) else 1
            )
            state = doc.get("printer_state", "unknown")
            for each in PRINTER_STATES:
                PRINTER.labels(SERVICE, doc["_id"], each).set(1 if each == state else 0)

    # The one write path

    def _problems(self, doc: dict[str, Any], now: datetime) -> dict[str, str]:
        """The problems the booth has now, by condition, with a detail for people."""
        found: dict[str, str] = {}
        seen = doc.get("last_seen_at")
        held = doc.get("problems") or {}
        silent = seen is not None and seen < now - timedelta(
            seconds=self.settings.kiosk_offline_after_s
        )
        # Closed hours raise nothing new, but a booth already offline stays so until heard from.
        if seen is not None and silent and (self.open_at(now) or "offline" in held):
            found["offline"] = "no heartbeat since " + seen.isoformat(timespec="seconds")
        if doc.get("printer_state") in PRINTER_DOWN:
            found["printer"] = str(doc["printer_state"])
        if doc.get("camera_ok") is False:
            found["camera"] = doc.get("last_error") or "camera unavailable"
        return found

    async def _update(self, kiosk: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
        for _ in range(_ATTEMPTS):
            try:
                return await self.outbox.run(lambda tx: self._write(tx, kiosk, fields))
            except _Conflict:
                continue
        raise RuntimeError(f"booth {kiosk['_id']}: health kept changing under us")

    async def _write(
        self, tx: Pending, kiosk: dict[str, Any], fields: dict[str, Any]
    ) -> dict[str, Any]:
        now = self.clock()
        kiosk_id = kiosk["_id"]
        old = await self.collection.find_one({"_id": kiosk_id}, session=tx.session)
        if old is None:
            # A booth first heard of after the shared printer last spoke takes its word.
            shared = await self.db[SHARED_PRINTER].find_one(
                {"_id": EVERY_KIOSK}, {"_id": 0}, session=tx.session
            )
            base = {
                "_id": kiosk_id,
                "printer_state": "unknown",
                **(shared or {}),
                "problems": {},
                "version": 0,
            }
        else:
            base = old
        doc = {
            **base,
            **fields,
            "center": kiosk.get("center") or kiosk["location"],
            "location": kiosk["location"],
        }
        held: dict[str, Any] = dict(base.get("problems") or {})
        now_failing = self._problems(doc, now)
        changes: list[HealthChange] = []
        for condition, detail in now_failing.items():
            if condition not in held:
                held[condition] = {"since": now, "detail": detail}
                changes.append(
                    HealthChange(condition=condition, ok=False, since=now, detail=detail)  # type: ignore[arg-type]
                )
        for condition in list(held):
            if condition not in now_failing:
                problem = held.pop(condition)
                changes.append(
                    HealthChange(
                        condition=condition,  # type: ignore[arg-type]
                        ok=True,
                        since=problem["since"],
                        detail=problem.get("detail", ""),
                    )
                )
        doc["problems"] = held
        doc["version"] = int(base.get("version", 0)) + 1
        if old is None:
            try:
                await self.collection.insert_one(doc, session=tx.session)
            except Exception as exc:  # a racing first report
                raise _Conflict() from exc
        else:
            result = await self.collection.replace_one(
                {"_id": kiosk_id, "version": base.get("version", 0)}, doc, session=tx.session
            )
            if result.matched_count != 1:
                raise _Conflict()
        if changes or old is None:
            tx.add(
                KioskHealthChanged(
                    kiosk_id=kiosk_id,
                    center=doc["center"],
                    location=doc["location"],
                    up="offline" not in held,
                    printer_state=doc.get("printer_state", "unknown"),
                    camera_ok=doc.get("camera_ok"),
                    microphone_ok=doc.get("microphone_ok"),
                    last_seen_at=doc.get("last_seen_at"),
                    changes=tuple(changes),
                    changed_at=now,
                )
            )
            for change in changes:
                log.warning(
                    "booth %s %s",
                    change.condition,
                    "recovered" if change.ok else "down",
                    extra={"kiosk": kiosk_id, "detail": change.detail},
                )
        return doc


def _printer_fields(event: PrinterStatusReported) -> dict[str, Any]:
    return {
        "printer_state": event.state,
        "printer_detail": event.detail,
        "printer_at": event.reported_at,
    }


def status_of(doc: dict[str, Any]) -> BoothStatus:
    problems = doc.get("problems") or {}
    printer = "printer" in problems
    camera = "camera" in problems
    return BoothStatus(
        appeals=not (printer or camera),
        lookup=True,
        printer_ok=not printer,
        camera_ok=not camera,
        printer_state=doc.get("printer_state", "unknown"),
    )
