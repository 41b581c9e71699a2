"""notifier's domain metrics (dialog_platform.metrics adds the `service` label): SMS by purpose
(new case, answer, overdue, …), never by phone number or appeal."""

from __future__ import annotations

from dialog_platform import metrics

from . import repository as repo

SERVICE = "notifier"

SMS_SENT = metrics.counter(
    "dialog_sms_sent_total", "SMS the gateway accepted (or had already accepted).", ("purpose",)
)
SMS_FAILED = metrics.counter(
    "dialog_sms_failed_total", "SMS refused for good (or no gateway configured).", ("purpose",)
)
SMS_HELD = metrics.counter(
    "dialog_sms_held_total",
    "SMS to officials held until their quiet hours end, when they were recorded.",
    ("purpose",),
)


def _seen(purpose: str) -> None:
    # Every outcome of a purpose is a series from its first SMS on, at 0 until it happens, so a
    # failure ratio or an alert has something to compare against.
    for counter in (SMS_SENT, SMS_FAILED, SMS_HELD):
        counter.labels(SERVICE, purpose)


def sms_held(purpose: str) -> None:
    _seen(purpose)
    SMS_HELD.labels(SERVICE, purpose).inc()


def sms_outcome(purpose: str, state: str) -> None:
    """Count one send attempt's outcome; a retry after an outage counts once it ends."""
    _seen(purpose)
    if state in (repo.SENT, repo.DELIVERED):
        SMS_SENT.labels(SERVICE, purpose).inc()
    elif state == repo.FAILED:
        SMS_FAILED.labels(SERVICE, purpose).inc()
