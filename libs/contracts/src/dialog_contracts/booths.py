"""Booth health: what a booth's printer says, and what the gateway concludes about the booth.

The printer-agent reports its printer's state on change and as a periodic keep-alive; the
gateway, which also hears the booth page's heartbeat, keeps each booth's health and publishes
KioskHealthChanged once when a problem starts and once when it ends.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from .envelope import EventData

PrinterState = Literal[
    "ready", "paper_near_end", "out_of_paper", "cover_open", "offline", "unknown"
]
# Printer states in which a receipt cannot be printed; `paper_near_end` still prints.
PRINTER_DOWN: frozenset[str] = frozenset({"out_of_paper", "cover_open", "offline"})
Condition = Literal["offline", "printer", "camera"]


class PrinterStatusReported(EventData):
    TYPE: ClassVar[str] = "kz.dialog.printer.status-reported.v1"
    ROUTING_KEY: ClassVar[str] = "printer.status-reported"

    kiosk_id: str
    state: PrinterState
    detail: str = Field(default="", max_length=200, description="the agent's reason, for people")
    reported_at: datetime

    def subject(self) -> str:
        return self.kiosk_id


class HealthChange(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    condition: Condition
    ok: bool = Field(description="False: the problem began; True: it ended")
    since: datetime = Field(description="when the problem began; the same on its recovery")
    detail: str = ""


class KioskHealthChanged(EventData):
    """A booth's whole health as the gateway holds it, and what changed (empty when first seen).

    `since` of a change names its occurrence, so a consumer keys "once per occurrence" on it.
    """

    TYPE: ClassVar[str] = "kz.dialog.kiosk.health-changed.v1"
    ROUTING_KEY: ClassVar[str] = "kiosk.health-changed"

    kiosk_id: str
    center: str
    location: str
    up: bool
    printer_state: PrinterState
    camera_ok: bool | None = None
    microphone_ok: bool | None = None
    last_seen_at: datetime | None = None
    changes: tuple[HealthChange, ...] = ()
    changed_at: datetime

    def subject(self) -> str:
        return self.kiosk_id
