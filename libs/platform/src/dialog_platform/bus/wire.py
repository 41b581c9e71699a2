"""The retry and dead-letter copies the RabbitMQ adapter makes: their headers, and the copying.

Apart from the adapter itself so that reading dead letters (`deadletters`) needs no aio-pika to
import, and both read and write the same names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aio_pika
    from aio_pika.abc import AbstractIncomingMessage

# Attempts counts handler failures; a redelivery after a lost connection is not a failure of the
# handler and does not count (see amqp.topology.DELIVERY_LIMIT).
HEADER_ATTEMPTS = "x-dialog-attempts"
HEADER_REASON = "x-dialog-reason"
HEADER_CONSUMER = "x-dialog-consumer"
HEADER_QUEUE = "x-dialog-queue"
HEADER_FAILED_AT = "x-dialog-failed-at"
HEADER_REPLAYED_AT = "x-dialog-replayed-at"
FAILURE_HEADERS = (HEADER_ATTEMPTS, HEADER_REASON, HEADER_CONSUMER, HEADER_QUEUE, HEADER_FAILED_AT)

# Dead-lettering history the broker adds; a copy we publish starts a fresh history.
BROKER_HEADER_PREFIXES = ("x-death", "x-first-death-", "x-last-death-", "x-delivery-count")

# A failure's reason as kept with its message, in either bus.
REASON_MAX_CHARS = 1000

DLQ_SUFFIX = ".dlq"


def dlq_name(queue: str) -> str:
    return f"{queue}{DLQ_SUFFIX}"


def copy_of(
    message: AbstractIncomingMessage,
    extra_headers: dict[str, Any],
    *,
    drop: tuple[str, ...] = (),
) -> aio_pika.Message:
    """A persistent copy of `message` for republishing: its headers but `drop` and the
    broker's history, plus `extra_headers`."""
    import aio_pika

    headers = {
        k: v
        for k, v in (message.headers or {}).items()
        if k not in drop and not k.startswith(BROKER_HEADER_PREFIXES)
    }
    headers.update(extra_headers)
    return aio_pika.Message(
        body=message.body,
        headers=headers,
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message.message_id,
        type=message.type,
        timestamp=message.timestamp,
        correlation_id=message.correlation_id,
        app_id=message.app_id,
    )
