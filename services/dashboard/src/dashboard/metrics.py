"""dashboard's domain metrics (dialog_platform.metrics adds the `service` label); never a login
name or an address in a label."""

from __future__ import annotations

from typing import Literal

from dialog_platform import metrics

SERVICE = "dashboard"

LOGINS = metrics.counter(
    "dialog_logins_total",
    "Dashboard log-ins: ok, failed (wrong login or password) or locked (too many failures).",
    ("outcome",),
)

# For the ops alert: no login in the labels (an attacker could make one series per guess).
LOGINS_ATTACKED = metrics.counter(
    "dialog_logins_attacked_total",
    "Logins whose wrong passwords from all clients passed the per-client limit: from then on "
    "each try at them is slowed (a login being guessed at, or a forgotten password).",
)

# Each series is at 0 from the start, so that a rate or an alert has one to read.
for _outcome in ("ok", "failed", "locked"):
    LOGINS.labels(SERVICE, _outcome)
LOGINS_ATTACKED.labels(SERVICE)


def login(outcome: Literal["ok", "failed", "locked"]) -> None:
    LOGINS.labels(SERVICE, outcome).inc()


def login_attacked() -> None:
    LOGINS_ATTACKED.labels(SERVICE).inc()
