"""What a fault run does, and the numbers every part of it goes by."""

from __future__ import annotations

import re
from dataclasses import dataclass

BROKER = "broker"
# kiosk.js: RETRY_DELAYS_S, the waits between the booth's tries of an upload or a submit.
BOOTH_RETRY_DELAYS_S = (1.0, 2.0, 4.0, 8.0, 8.0)
# After the booth gives up it shows "try again"; a citizen who is still there presses it.
CITIZEN_PRESSES_AGAIN_S = 3.0
RECEIPT_POLL_S = 0.1
# How long everything must stay quiet (no queued message, no pending outbox event) before an
# incomplete outcome is taken as final rather than as still on its way.
QUIET_S = 10.0
MAX_VIDEO_BYTES = 2_000_000
NUMBER = re.compile(r"\d{4}-\d{6}-\d")


@dataclass
class FaultConfig:
    appeals: int = 40
    kill_every: tuple[float, float] = (1.0, 3.0)
    # At least this many kills; the appeals are then spread over them (0: kill until the
    # appeals are done).
    kills: int = 0
    broker: bool = False
    seed: int = 1
    concurrency: int = 4
    settle_timeout_s: float = 180.0
    # How long a citizen keeps trying before walking away from the booth.
    patience_s: float = 240.0
    notify_citizen_on_record: bool = True
    # Seconds between the starts of two appeals; None: spread them over the expected time of
    # `kills` kills (or 0.5 s when the kills simply last as long as the appeals).
    pace_s: float | None = None

    def pace(self) -> float:
        if self.pace_s is not None:
            return self.pace_s
        if not self.kills:
            return 0.5
        low, high = self.kill_every
        # A service is back ~4 s after its kill, a broker ~12 s (measured on 2 cores).
        restarts = self.kills * 4.0 + (2 * 8.0 if self.broker else 0.0)
        return (self.kills * (low + high) / 2 + restarts) / self.appeals
