"""The RabbitMQ adapter of the bus port (aio-pika).

- `bus`: `AmqpBus`, the port over one supervised session at a time;
- `topology`: the exchanges and queues it declares;
- `session`: a session, and publishing with the broker's confirm;
- `delivery`: what becomes of each delivery (ack, retry queue or dead-letter queue).
"""

from __future__ import annotations

from ..wire import (
    HEADER_ATTEMPTS,
    HEADER_CONSUMER,
    HEADER_FAILED_AT,
    HEADER_QUEUE,
    HEADER_REASON,
    dlq_name,
)
from .bus import CONTENT_TYPE, AmqpBus
from .delivery import INVALID
from .topology import DECLARE_CHANNELS, DELIVERY_LIMIT, retry_queue_name

__all__ = [
    "CONTENT_TYPE",
    "DECLARE_CHANNELS",
    "DELIVERY_LIMIT",
    "HEADER_ATTEMPTS",
    "HEADER_CONSUMER",
    "HEADER_FAILED_AT",
    "HEADER_QUEUE",
    "HEADER_REASON",
    "INVALID",
    "AmqpBus",
    "dlq_name",
    "retry_queue_name",
]
