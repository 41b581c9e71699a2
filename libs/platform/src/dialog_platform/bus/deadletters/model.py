"""What is known of dead letters in either mode: their names, the model shown, the port."""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from dialog_contracts import BINDINGS, EVENTS_BY_TYPE, Envelope, queue_name

from ..wire import DLQ_SUFFIX

# basic.get is one round trip per message; a DLQ beyond this is a flood to be looked at with the
# broker's own tools, not walked by hand. Every call (summary, show, replay, drop) stops here.
MAX_WALK = 10_000


class UnknownQueue(LookupError):
    """No such dead-letter queue."""

    def __init__(self, queue: str) -> None:
        super().__init__(f"no dead-letter queue {queue!r}")
        self.queue = queue


class ReplayRefused(RuntimeError):
    """The broker would not take a replayed copy; its dead letter stays where it was."""


@dataclass(frozen=True)
class DlqSummary:
    queue: str  # the dead-letter queue, `<consumer queue>.dlq`
    count: int
    oldest_age_s: float | None
    last_error: str | None


@dataclass(frozen=True)
class DeadLetter:
    id: str
    type: str | None
    consumer: str | None
    attempts: int
    reason: str | None
    failed_at: datetime | None
    subject: str | None
    time: datetime | None


def dlq_of(queue: str) -> str:
    """Either spelling of a queue (`notifier.appeal-routed` or `….dlq`) → the DLQ's name."""
    return queue if queue.endswith(DLQ_SUFFIX) else queue + DLQ_SUFFIX


def consumer_queue_of(dlq: str) -> str:
    return dlq[: -len(DLQ_SUFFIX)] if dlq.endswith(DLQ_SUFFIX) else dlq


def known_dlqs(namespace: str, extra_queues: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The DLQs of every consumer queue in the topology, then the caller's (per-kiosk) ones."""
    names = [dlq_of(queue_name(namespace, b.consumer, b.event)) for b in BINDINGS]
    names += [dlq_of(q) for q in extra_queues]
    return list(dict.fromkeys(names))


def queue_for(namespace: str, consumer: str, envelope: Envelope) -> str:
    """The consumer queue AMQP would have held this envelope in (per-kiosk ones included)."""
    event = EVENTS_BY_TYPE.get(envelope.type)
    if event is None:
        base = f"{consumer}.{envelope.type}"
        return base if namespace == "dialog" else f"{namespace}.{base}"
    suffix = ""
    try:
        key = envelope.parse(event).routing_key()
    except ValueError:
        key = event.ROUTING_KEY  # the data is what failed; the queue stays the event's own
    if key.startswith(event.ROUTING_KEY + "."):
        suffix = key[len(event.ROUTING_KEY) + 1 :]
    return queue_name(namespace, consumer, event, suffix)


def age_s(at: datetime | None, now: datetime) -> float | None:
    if at is None:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return max((now - at).total_seconds(), 0.0)


def format_age(seconds: float | None) -> str:
    """`3m12s`, `2h05m`, `4d03h`; `—` when unknown."""
    if seconds is None:
        return "—"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def consumed_by(namespace: str, dlq: str, consumers: Collection[str]) -> str | None:
    """The consumer (of `consumers`) whose queue `dlq` dead-letters, else None."""
    name = dlq if namespace == "dialog" else dlq.removeprefix(f"{namespace}.")
    consumer = name.split(".", 1)[0]
    return consumer if consumer in consumers else None


class DeadLetters(abc.ABC):
    """The dead-letter queues of one deployment."""

    @abc.abstractmethod
    async def counts(self, consumers: Collection[str]) -> dict[str, int]:
        """Messages waiting per DLQ of the given consumers' queues, cheaply (for `/metrics`)."""

    @abc.abstractmethod
    async def summary(self) -> list[DlqSummary]:
        """Every known dead-letter queue, empty ones included, in topology order."""

    @abc.abstractmethod
    async def show(self, queue: str, limit: int = 20) -> list[DeadLetter]:
        """Up to `limit` messages, oldest first, left where they are."""

    @abc.abstractmethod
    async def replay(self, queue: str, ids: list[str] | None = None) -> int:
        """Hand the selected messages (None: all) back to their consumer; how many."""

    @abc.abstractmethod
    async def drop(self, queue: str, id: str) -> bool:
        """Remove one message for good; False when it was not there."""

    async def close(self) -> None:
        return None


def header_dt(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def header_str(value: object) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return None if value is None else str(value)
