"""What becomes of a delivery: handled and acked, sent to a retry queue, or dead-lettered."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

from aio_pika.abc import AbstractExchange, AbstractIncomingMessage

from dialog_contracts import Envelope

from ... import metrics
from ..base import (
    Failed,
    OutageGate,
    PublishError,
    RetryPolicy,
    Subscription,
    UnroutableError,
    attempt_delivery,
)
from ..wire import (
    HEADER_ATTEMPTS,
    HEADER_CONSUMER,
    HEADER_FAILED_AT,
    HEADER_QUEUE,
    HEADER_REASON,
    REASON_MAX_CHARS,
    copy_of,
    dlq_name,
)
from .session import ConfirmedPublisher, Session
from .topology import retry_queue_name

log = logging.getLogger(__name__)

# The `event` label of a message that is no CloudEvents envelope at all.
INVALID = "invalid"


def _attempts(headers: dict[str, Any] | None) -> int:
    value = (headers or {}).get(HEADER_ATTEMPTS)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return 0


def _failure_headers(sub: Subscription, queue: str, attempts: int, reason: str) -> dict[str, Any]:
    return {
        HEADER_ATTEMPTS: attempts,
        HEADER_REASON: reason[:REASON_MAX_CHARS],
        HEADER_CONSUMER: sub.consumer,
        HEADER_QUEUE: queue,
        HEADER_FAILED_AT: datetime.now(UTC).isoformat(),
    }


class Deliveries:
    """Runs each delivery's handler in a task of its own and settles the message after."""

    def __init__(
        self,
        *,
        namespace: str,
        retry: RetryPolicy,
        publisher: ConfirmedPublisher,
        publish_timeout_s: float,
        close_grace_s: float,
    ) -> None:
        self._namespace = namespace
        self._retry = retry
        self._publisher = publisher
        self._publish_timeout_s = publish_timeout_s
        self._close_grace_s = close_grace_s
        self._inflight: set[asyncio.Task[None]] = set()

    async def on_delivery(
        self, session: Session, sub: Subscription, queue: str, message: AbstractIncomingMessage
    ) -> None:
        # A task of our own rather than aio-pika's, which is cancelled with the channel: a
        # handler interrupted halfway through its commit is worse than one whose ack is lost
        # (the broker then redelivers, and handlers are idempotent).
        task = asyncio.create_task(self._handle(session, sub, queue, message))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _handle(
        self, session: Session, sub: Subscription, queue: str, message: AbstractIncomingMessage
    ) -> None:
        failed_before = _attempts(message.headers)
        try:
            envelope = Envelope.from_bytes(message.body)
        except ValueError as exc:  # pydantic's ValidationError included
            metrics.BUS_CONSUMED.labels(sub.consumer, queue, INVALID).inc()
            metrics.BUS_DEAD_LETTERED.labels(sub.consumer, queue, INVALID).inc()
            log.error(
                "bus: %s: message %s is not a CloudEvents envelope; dead-lettered",
                queue,
                message.message_id,
            )
            await self._move(
                session,
                message,
                queue,
                dlq_name(queue),
                _failure_headers(sub, queue, failed_before, f"invalid envelope: {exc}"),
            )
            return

        attempt = failed_before + 1
        outcome = await attempt_delivery(
            sub,
            envelope,
            attempt=attempt,
            retry=self._retry,
            gate=session.gates.setdefault(queue, OutageGate()),
            halt=session.halt,
            queue=queue,
        )
        if outcome is True:
            await self._ack(message, queue)
        if not isinstance(outcome, Failed):
            return  # handled, or halted: the broker hands the unacked message out again
        if outcome.final:
            headers = _failure_headers(sub, queue, attempt, outcome.reason)
            await self._move(session, message, queue, dlq_name(queue), headers)
            return
        headers = {HEADER_ATTEMPTS: attempt, HEADER_REASON: outcome.reason}
        delay_ms = round(outcome.delay_s * 1000)
        if not delay_ms:
            await self._move(session, message, queue, queue, headers)
            return
        await self._move(
            session,
            message,
            queue,
            retry_queue_name(self._namespace, delay_ms),
            headers,
            via=session.retry_exchanges[delay_ms],
        )

    async def _move(
        self,
        session: Session,
        message: AbstractIncomingMessage,
        queue: str,
        target: str,
        headers: dict[str, Any],
        *,
        via: AbstractExchange | None = None,
    ) -> None:
        """Put a copy into `target` (confirmed), then ack the original.

        In that order, so a crash in between leaves a duplicate rather than nothing. `via` is a
        retry exchange: the copy is published there keyed by `queue`, which it returns to.
        """
        if not session.alive:
            # The delivery died with its channel; the broker hands the original out again.
            return
        try:
            async with asyncio.timeout(self._publish_timeout_s):
                if via is None:
                    exchange, key = session.channel.default_exchange, target
                else:
                    exchange, key = via, queue
                await self._publisher.publish(exchange, key, copy_of(message, headers))
        except (PublishError, TimeoutError) as exc:
            if not session.alive:
                return
            if isinstance(exc, UnroutableError):
                # The retry or dead-letter queue is gone (deleted by hand?). Rebuilding the session
                # declares it again, and the original, never acked, is delivered again.
                log.error("bus: %s is missing; rebuilding the session", target)
                session.discard()
                return
            log.error(
                "bus: %s: could not move message %s to %s (%r); returning it to the queue",
                queue,
                message.message_id,
                target,
                exc,
            )
            # Not at once, so a broker refusing the copy does not make a hot loop; each return
            # counts towards the queue's delivery limit, which bounds the loop.
            await asyncio.sleep(min(self._retry.delay_after(1), 5.0))
            with contextlib.suppress(Exception):
                await message.nack(requeue=True)
            return
        await self._ack(message, queue)

    async def _ack(self, message: AbstractIncomingMessage, queue: str) -> None:
        try:
            await message.ack()
        except Exception as exc:
            log.warning(
                "bus: %s: ack of message %s failed (%r); it will be delivered again",
                queue,
                message.message_id,
                exc,
            )

    async def drain(self) -> None:
        """Give the handlers still running `close_grace_s` to finish, then cancel them."""
        if not self._inflight:
            return
        _, pending = await asyncio.wait(set(self._inflight), timeout=self._close_grace_s)
        for task in pending:
            task.cancel()
        if pending:
            log.warning(
                "bus: closing with %d handlers unfinished; they will be redelivered", len(pending)
            )
            await asyncio.gather(*pending, return_exceptions=True)
