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

# Each outcome is a series at 0 from the start, so that a rate or an alert has one to read.
for _outcome in ("ok", "failed", "locked"):
    LOGINS.labels(SERVICE, _outcome)


def login(outcome: Literal["ok", "failed", "locked"]) -> None:
    LOGINS.labels(SERVICE, outcome).inc()
