"""Prometheus metrics: one registry per process, every series labelled with its `service`.

`GET /metrics` serves the registry in the text format. In the single process every component
counts into the same registry under its own `service` label; in distributed mode each process
has its own. Names follow the Prometheus naming guide (`dialog_` prefix, base units, `_total`
on counters).

A service declares its domain metrics next to its code with `counter()`, `gauge()` and
`histogram()` (they add the `service` label) and counts with one line where the thing happens.
Gauges that are read from a database or a broker are filled just before a scrape by a callback
registered with `on_scrape()` (the outbox's pending entries, the dead-letter queues, routing's
cases; booths' health is meant to hook in the same way, from kiosk-gateway).

Labels never carry personal data: no phone number, IIN, name, registration number or access
code, and the HTTP `route` is the path template (`/api/v1/appeals/{appeal_id}/video`), never the
path itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

SERVICE = "service"
# The `route` of a request that matched no route: one fixed value, so that scanners probing
# random paths cannot make a series per path.
UNMATCHED = "unmatched"
# A scrape waits at most this long for the gauges read from the database or the broker; a
# callback that overruns keeps its previous values.
SCRAPE_TIMEOUT_S = 2.0

# Request and handler times: a booth upload streams for tens of seconds, a look-up takes ms.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

# No `_created` series beside every counter and histogram: they double the scrape for nothing
# the alerts or the dashboard use.
disable_created_metrics()  # type: ignore[no-untyped-call]
REGISTRY = CollectorRegistry(auto_describe=True)
for _default in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    # The process's CPU, memory and file descriptors, as the default registry would have them.
    REGISTRY.register(_default)

_declared: dict[str, Collector] = {}


def _labels(labels: Sequence[str]) -> tuple[str, ...]:
    if SERVICE in labels:
        raise ValueError("the service label is added by dialog_platform.metrics")
    return (SERVICE, *labels)


def _declare(
    kind: type[Any], name: str, documentation: str, labels: Sequence[str], **kw: Any
) -> Any:
    # Declared once per process, even when a module declaring it is imported again.
    found = _declared.get(name)
    if found is not None:
        if not isinstance(found, kind):
            raise ValueError(f"metric {name} is already declared as another kind")
        return found
    metric = kind(name, documentation, _labels(labels), registry=REGISTRY, **kw)
    _declared[name] = metric
    return metric


def counter(name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
    """A counter labelled `service` and `labels`; `name` ends in `_total`."""
    if not name.endswith("_total"):
        raise ValueError(f"counter {name}: a counter's name ends in _total")
    # prometheus-client adds `_total` itself and strips it from the name it is given.
    return _declare(Counter, name, documentation, labels)  # type: ignore[no-any-return]


def gauge(name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
    return _declare(Gauge, name, documentation, labels)  # type: ignore[no-any-return]


def histogram(
    name: str,
    documentation: str,
    labels: Sequence[str] = (),
    buckets: Sequence[float] = DURATION_BUCKETS,
) -> Histogram:
    return _declare(  # type: ignore[no-any-return]
        Histogram, name, documentation, labels, buckets=tuple(buckets)
    )


# -- what the platform counts ------------------------------------------------------------------

HTTP_REQUESTS = counter(
    "dialog_http_requests_total",
    "HTTP requests answered, by route template and status code.",
    ("method", "route", "status"),
)
HTTP_DURATION = histogram(
    "dialog_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response body.",
    ("method", "route"),
)

BUS_CONSUMED = counter(
    "dialog_bus_messages_consumed_total",
    "Deliveries taken from a consumer queue (redeliveries included).",
    ("queue", "event"),
)
BUS_HANDLED = counter(
    "dialog_bus_messages_handled_total",
    "Messages whose handler returned (their effect committed).",
    ("queue", "event"),
)
BUS_RETRIED = counter(
    "dialog_bus_messages_retried_total",
    "Handler tries that failed and will be tried again: `transient` (an outage, waited out in "
    "place) or `failed` (the message's own fault, counted against its attempts).",
    ("queue", "event", "kind"),
)
BUS_DEAD_LETTERED = counter(
    "dialog_bus_messages_dead_lettered_total",
    "Messages given up on and moved to the dead-letter queue.",
    ("queue", "event"),
)
BUS_HANDLER_DURATION = histogram(
    "dialog_bus_handler_duration_seconds",
    "Time one handler try took, successful or not.",
    ("queue", "event"),
)
BUS_PUBLISH_CONFIRMS = counter(
    "dialog_bus_publish_confirms_total",
    "Messages the bus accepted (broker confirm, or every local handler done).",
    ("event",),
)
BUS_PUBLISH_FAILURES = counter(
    "dialog_bus_publish_failures_total",
    "Publishes not confirmed (nack, unroutable, timeout, broker away); the outbox tries again.",
    ("event",),
)
DLQ_MESSAGES = gauge(
    "dialog_dlq_messages",
    "Messages waiting in a dead-letter queue, reported by the service that consumes the queue.",
    ("queue",),
)

BUS_QUEUE_MESSAGES = gauge(
    "dialog_bus_queue_messages",
    "Messages ready in a consumer queue on RabbitMQ (its backlog), reported by its consumer.",
    ("queue",),
)

OUTBOX_PENDING = gauge(
    "dialog_outbox_pending_entries",
    "Outbox entries written and not yet published.",
)
OUTBOX_OLDEST_AGE = gauge(
    "dialog_outbox_oldest_pending_age_seconds",
    "Age of the oldest unpublished outbox entry; 0 when none is pending.",
)


READY = gauge(
    "dialog_ready",
    "1 when every backend and component of the process answers (what /readyz says), else 0.",
)


def bus_consumer_series(consumer: str, queue: str, event: str) -> None:
    """Make a consumer queue's bus series exist, at 0, before anything happens to it.

    A labelled counter has no series until it is first counted; a dashboard or an alert that
    reads `rate(dialog_bus_messages_dead_lettered_total[5m])` would otherwise see nothing at all
    rather than a 0 until the first dead letter.
    """
    labels = (consumer, queue, event)
    for counter in (BUS_CONSUMED, BUS_HANDLED, BUS_DEAD_LETTERED):
        counter.labels(*labels)
    for kind in ("transient", "failed"):
        BUS_RETRIED.labels(*labels, kind)


def service_of_source(source: str) -> str:
    """`/dialog/kiosk-gateway` (an envelope's source) → `kiosk-gateway`."""
    return source.rstrip("/").rsplit("/", 1)[-1] or "dialog"


# -- gauges read at scrape time ----------------------------------------------------------------

Refresh = Callable[[], Awaitable[None]]
_refreshers: dict[int, Refresh] = {}


def on_scrape(refresh: Refresh) -> Callable[[], None]:
    """Run `refresh` before every scrape (to set gauges); returns the function that removes it.

    This is where a service hooks gauges it reads from elsewhere, e.g. kiosk-gateway setting
    `dialog_kiosk_up{kiosk,center}` and `dialog_kiosk_printer_state{kiosk,state}` from the
    booths' last reports.
    """
    key = id(refresh)
    _refreshers[key] = refresh

    def remove() -> None:
        _refreshers.pop(key, None)

    return remove


async def _run_refresh(refresh: Refresh) -> None:
    try:
        await asyncio.wait_for(refresh(), timeout=SCRAPE_TIMEOUT_S)
    except Exception as exc:  # a scrape shows the last values rather than failing
        log.warning("metrics: a scrape-time gauge could not be read (%r)", exc)


async def refresh_all(own: Sequence[Refresh] = ()) -> None:
    await asyncio.gather(*(_run_refresh(r) for r in [*_refreshers.values(), *own]))


def metrics_router(own: Sequence[Refresh] = ()) -> APIRouter:
    """`GET /metrics`: the process's registry, after the scrape-time callbacks (global ones and
    `own`, this app's) have set their gauges."""
    from fastapi import APIRouter
    from fastapi.responses import Response

    router = APIRouter(tags=["health"])

    # Not behind a login: the NetworkPolicies let only the cluster's Prometheus reach it, and
    # the public Ingress has no route to it.
    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        await refresh_all(own)
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return router


# -- HTTP ----------------------------------------------------------------------------------------


def _route_owner(route: Any, components: frozenset[str], default: str) -> str:
    """The component whose router declared `route` (its endpoint's package), else `default`."""
    module = getattr(getattr(route, "endpoint", None), "__module__", "") or ""
    name = module.split(".", 1)[0].replace("_", "-")
    return name if name in components else default


class HttpMetrics:
    """ASGI middleware counting every request by its route template and status.

    Pure ASGI rather than BaseHTTPMiddleware: a streamed upload passes through untouched.
    """

    def __init__(self, app: ASGIApp, *, service: str, components: Sequence[str]) -> None:
        self.app = app
        self.service = service
        self.components = frozenset(components)
        self._owners: dict[int, tuple[str, str]] = {}

    def _labels(self, scope: Scope) -> tuple[str, str]:
        route = scope.get("route")
        path = getattr(route, "path", None)
        if route is None or not isinstance(path, str):
            return self.service, UNMATCHED
        found = self._owners.get(id(route))
        if found is None:
            found = (_route_owner(route, self.components, self.service), path)
            self._owners[id(route)] = found
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers when the app raises before responding

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            service, route = self._labels(scope)
            method = str(scope.get("method", ""))
            HTTP_REQUESTS.labels(service, method, route, str(status)).inc()
            HTTP_DURATION.labels(service, method, route).observe(time.perf_counter() - started)


def readiness_gauge(checks: Mapping[str, Any], targets: Sequence[str]) -> Refresh:
    """A scrape-time callback setting `dialog_ready` from the same checks as `/readyz`."""
    from .health import _report as report  # the very checks /readyz runs

    async def refresh() -> None:
        ready, _ = await report(checks)
        READY.labels(process_service(targets)).set(1 if ready else 0)

    return refresh


def process_service(targets: Sequence[str]) -> str:
    """The `service` label of what belongs to no one component: the target, or `dialog`."""
    return targets[0] if len(targets) == 1 else "dialog"


def install_metrics(app: FastAPI, targets: Sequence[str], *own: Refresh | None) -> None:
    """Serve `/metrics` and count the app's requests; `own` are this app's scrape callbacks."""
    app.add_middleware(HttpMetrics, service=process_service(targets), components=list(targets))
    app.include_router(metrics_router([r for r in own if r is not None]))
