"""Two kinds of failure: a passing outage, and everything else.

A handler that fails because a neighbour is down (a service, the database, the object store,
SMSC or the broker unreachable, timing out or answering 5xx) has done nothing wrong: the bus
retries it, with capped backoff, for as long as it takes, and never counts it against the
message. Anything else (the message does not validate, the handler raises on its content) uses
up the message's bounded attempts and ends in the dead-letter queue.

Our own code raises `Transient` (or `DependencyUnavailable`) at the boundary where it knows a
neighbour is down. Libraries raise their own errors; `is_transient` maps those, following the
exception chain, so a handler need not wrap every call.
"""

from __future__ import annotations

import asyncio


class Transient(Exception):
    """A passing outage: retry until it passes."""


class DependencyUnavailable(Transient):
    """A named neighbour (`routing`, `documents`, `media`, `sms-gateway`, `bus`) is down."""

    def __init__(self, dependency: str, detail: str = "") -> None:
        super().__init__(f"{dependency} unavailable" + (f": {detail}" if detail else ""))
        self.dependency = dependency
        self.detail = detail


def _library_transient(exc: BaseException) -> bool:
    # Imported here: the platform's light modules (this one is imported by the bus) must not
    # pull in every client library at start.
    import httpx
    import pymongo.errors

    if isinstance(exc, httpx.TransportError):  # connect, read, write, pool, timeouts
        return True
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        return status >= 500 or status == 429
    if isinstance(exc, pymongo.errors.ConnectionFailure):
        # AutoReconnect, NetworkTimeout, NotPrimaryError, ServerSelectionTimeoutError
        return True
    if isinstance(exc, pymongo.errors.PyMongoError):
        labels = ("TransientTransactionError", "RetryableWriteError")
        return any(exc.has_error_label(label) for label in labels)
    try:
        import urllib3.exceptions
    except ImportError:  # pragma: no cover - urllib3 comes with minio
        return False
    # MaxRetryError, NewConnectionError, ProtocolError, timeouts: the S3 client's transport
    return isinstance(exc, urllib3.exceptions.HTTPError)


def is_transient(exc: BaseException) -> bool:
    """True when `exc`, or an exception it was raised from, is a passing outage."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, Transient):
            return True
        if isinstance(current, ConnectionError | TimeoutError | asyncio.TimeoutError):
            return True
        if _library_transient(current):
            return True
        current = current.__cause__ or current.__context__
    return False
