"""The printer's state, reported to the gateway between receipts as well as after one.

Sent on a change, and again every keep-alive interval so the gateway can tell a quiet printer
from a lost report. printer-agent has no database: a report the bus could not take (the
broker, or the booth's network, is down) is simply sent at the next poll, since only the
latest state matters.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dialog_contracts import Envelope, PrinterState, PrinterStatusReported
from dialog_platform.bus import Bus

from .printers import printer_state

log = logging.getLogger(__name__)

SOURCE = "/dialog/printer-agent"


@dataclass
class StatusReporter:
    bus: Bus
    printer_url: str
    # `*` in one process: the one printer of a one-booth site, which the gateway applies to
    # every booth it knows.
    kiosk_id: str
    clock: Callable[[], datetime]
    keepalive: timedelta
    # Held while printing: a status query must not land in the middle of a receipt's job.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _last: tuple[PrinterState, str] | None = None
    _last_sent_at: datetime | None = None

    async def poll(self) -> PrinterState:
        async with self.lock:
            state, detail = await asyncio.to_thread(printer_state, self.printer_url)
        now = self.clock()
        due = self._last_sent_at is None or now - self._last_sent_at >= self.keepalive
        if (state, detail) == self._last and not due:
            return state
        event = PrinterStatusReported(
            kiosk_id=self.kiosk_id, state=state, detail=detail[:200], reported_at=now
        )
        try:
            await self.bus.publish(Envelope.wrap(event, source=SOURCE), event.routing_key())
        except Exception as exc:
            log.warning("printer status not reported; will retry at the next poll: %s", exc)
            return state
        if (state, detail) != self._last:
            log.info("printer state %s", state, extra={"kiosk": self.kiosk_id, "detail": detail})
        self._last, self._last_sent_at = (state, detail), now
        return state
