"""dashboard's event consumers.

The dashboard reads cases from routing's API when a page is shown, so the case events bound to
it (DESIGN.md §3) need no state here; they are consumed so their queues do not grow on a broker.
"""

from __future__ import annotations

import logging

from dialog_contracts import (
    AppealOverdue,
    AppealRecorded,
    AppealRouted,
    DeadlineApproaching,
    Envelope,
)
from dialog_platform.bus import Bus

log = logging.getLogger(__name__)
SERVICE = "dashboard"


def subscribe(bus: Bus) -> None:
    async def seen(envelope: Envelope) -> None:
        log.debug("case event", extra={"type": envelope.type, "subject": envelope.subject})

    for event in (AppealRecorded, AppealRouted, DeadlineApproaching, AppealOverdue):
        bus.subscribe(SERVICE, event, seen)
