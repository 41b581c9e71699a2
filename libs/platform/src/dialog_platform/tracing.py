"""Traces with OpenTelemetry, configured by the standard `OTEL_*` variables.

Off unless `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set; then
spans go by OTLP over HTTP (protobuf) to that collector, and FastAPI, httpx and PyMongo are
instrumented. `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER` and the
exporter's own variables (headers, timeout, compression) are read as the SDK documents them.

Across the bus the W3C trace context travels in the CloudEvents distributed-tracing extension
(`traceparent`/`tracestate` on the envelope): stamped when an event is written to the outbox, so
the entry keeps the context of the request that wrote it; the relay's publish is a span of that
trace; each consumer's handler runs in a span whose parent is the publish.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Iterator, Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from dialog_contracts import Envelope

log = logging.getLogger(__name__)

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
# The probes and the scrapes would be most of the spans and tell nothing.
EXCLUDED_URLS = "/livez,/readyz,/metrics"
TRACER_NAME = "dialog_platform"

_enabled = False
# The configured sampler follows the parent's decision: a span under an unsampled parent would be
# dropped, so it need not be started at all (see `_unsampled`).
_follows_parent = False


def enabled() -> bool:
    return _enabled


def endpoint_configured(environ: Mapping[str, str] = os.environ) -> bool:
    return any(environ.get(name, "").strip() for name in ENDPOINT_VARIABLES)


@functools.cache
def _tracer() -> trace.Tracer:
    # Once: the SDK builds a new tracer and scope on each call (a proxy, made before tracing is
    # configured, follows the provider set later).
    return trace.get_tracer(TRACER_NAME)


def _sampler() -> tuple[Any, bool]:
    """The sampler to use, and whether it follows the parent's decision."""
    from opentelemetry.sdk.trace import sampling

    # What OTEL_TRACES_SAMPLER names (parent-based always-on when unset).
    from_env = getattr(sampling, "_get_from_env_or_default", None)
    configured = from_env() if from_env is not None else sampling.ParentBased(sampling.ALWAYS_ON)

    class CallsOnlyInsideTraces(sampling.Sampler):
        """Drops a client span (a database command, an HTTP call) that would start a trace.

        The outbox relay, the timers and the read models poll every second or so; each poll
        would otherwise be a trace of its own, burying the ones a person looks for.
        """

        def should_sample(
            self,
            parent_context: Any,
            trace_id: int,
            name: str,
            kind: Any = None,
            attributes: Any = None,
            links: Any = None,
            trace_state: Any = None,
        ) -> sampling.SamplingResult:
            parent = trace.get_current_span(parent_context).get_span_context()
            if not parent.is_valid and kind == SpanKind.CLIENT:
                return sampling.SamplingResult(sampling.Decision.DROP)
            return configured.should_sample(  # type: ignore[no-any-return]
                parent_context, trace_id, name, kind, attributes, links, trace_state
            )

        def get_description(self) -> str:
            return f"CallsOnlyInsideTraces({configured.get_description()})"

    return CallsOnlyInsideTraces(), isinstance(configured, sampling.ParentBased)


def _unsampled(context: otel_context.Context | None = None) -> bool:
    """Whether a span started in `context` (the current one by default) would be dropped.

    At a region's volume traces are sampled (`parentbased_traceidratio`), and most messages
    belong to traces nobody will see. Starting a span the sampler then drops still costs the
    SDK's work and the instrumentation's; skipping it keeps unsampled work nearly free.
    """
    parent = trace.get_current_span(context).get_span_context()
    if not parent.is_valid:
        return False
    return _follows_parent and not parent.trace_flags.sampled


@contextlib.contextmanager
def _within(context: otel_context.Context) -> Iterator[None]:
    token = otel_context.attach(context)
    try:
        yield
    finally:
        otel_context.detach(token)


def _command_listener() -> Any:
    """PyMongo's OpenTelemetry listener, skipping commands that no sampled span would hold.

    Its own `started` starts a span for every command, to have it dropped by the sampler when
    the trace is unsampled or there is none (`CallsOnlyInsideTraces`).
    """
    from opentelemetry.instrumentation.pymongo import CommandTracer
    from opentelemetry.instrumentation.pymongo.version import __version__

    class SampledCommandTracer(CommandTracer):  # type: ignore[misc]
        def started(self, event: Any) -> None:
            if not _in_sampled_trace():
                return  # `succeeded` and `failed` then find no span and do nothing
            super().started(event)

    return SampledCommandTracer(
        trace.get_tracer("opentelemetry.instrumentation.pymongo", __version__)
    )


def _in_sampled_trace() -> bool:
    """Whether a span started here could be recorded (PyMongo asks this of every command)."""
    parent = trace.get_current_span().get_span_context()
    # Written for speed: an invalid context has no flags set.
    return parent.trace_flags.sampled or (not _follows_parent and parent.is_valid)


def _publish_commands_only_in_sampled_traces(monitoring: Any) -> None:
    """Let PyMongo build its command events only where a span would be made of them.

    With a command listener registered PyMongo builds a started and a succeeded event for every
    command, traced or not: a few percent of the notifier's time per SMS when 9 traces in 10
    are unsampled. PyMongo reads `enabled_for_commands` once per command to decide; this makes
    it also ask whether the command runs in a sampled trace. Our listener is the process's only
    command listener. Where PyMongo no longer has the property, nothing changes but the cost.
    """
    listeners = getattr(monitoring, "_EventListeners", None)
    gate = getattr(listeners, "enabled_for_commands", None)
    if not isinstance(gate, property) or gate.fget is None:
        log.warning("PyMongo's command events cannot be skipped outside sampled traces")
        return
    registered = gate.fget

    def enabled_for_commands(self: Any) -> bool:
        return bool(registered(self)) and _in_sampled_trace()

    listeners.enabled_for_commands = property(enabled_for_commands)  # type: ignore[union-attr]


def _skip_unsampled_http_spans() -> None:
    """Wrap httpx's instrumented transport: a call outside a sampled trace only passes it on.

    The `traceparent` of an unsampled trace (flagged so) is still sent, so a service called
    inside it keeps it unsampled instead of starting a trace of its own.
    """
    import httpx
    from opentelemetry.instrumentation.utils import suppress_http_instrumentation
    from wrapt import wrap_function_wrapper

    async def gated(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        if _in_sampled_trace():
            return await wrapped(*args, **kwargs)
        request: httpx.Request = args[0] if args else kwargs["request"]
        propagate.inject(request.headers)
        with suppress_http_instrumentation():
            return await wrapped(*args, **kwargs)

    wrap_function_wrapper(httpx.AsyncHTTPTransport, "handle_async_request", gated)


def configure_tracing(service: str, *, exporter: Any = None) -> bool:
    """Set up the tracer provider and instrument httpx and PyMongo; True when tracing is on.

    `exporter` replaces the OTLP exporter (a test's in-memory one); without it tracing stays off
    unless an OTLP endpoint is configured. Call once per process, before clients are made.
    """
    global _enabled, _follows_parent
    if _enabled:
        return True
    if exporter is None and not endpoint_configured():
        return False
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    from pymongo import monitoring

    attributes: dict[str, str] = {}
    if not os.environ.get("OTEL_SERVICE_NAME"):
        attributes[SERVICE_NAME] = service
    sampler, _follows_parent = _sampler()
    provider = TracerProvider(resource=Resource.create(attributes), sampler=sampler)
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    HTTPXClientInstrumentor().instrument()
    _skip_unsampled_http_spans()
    # Registered for every client made after this (hence: before clients are made).
    monitoring.register(_command_listener())
    _publish_commands_only_in_sampled_traces(monitoring)
    _enabled = True
    log.info("tracing on", extra={"otel_service": os.environ.get("OTEL_SERVICE_NAME") or service})
    return True


def shutdown_tracing() -> None:
    """Flush what is still buffered (at the end of the process)."""
    provider = trace.get_tracer_provider()
    shutdown = getattr(provider, "shutdown", None)
    if _enabled and shutdown is not None:
        shutdown()


def instrument_app(app: Any) -> None:
    """Trace the app's requests (not the probes and scrapes), when tracing is on."""
    if not _enabled:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    # No span per body chunk: a booth's upload is thousands of them.
    FastAPIInstrumentor.instrument_app(
        app, excluded_urls=EXCLUDED_URLS, exclude_spans=["receive", "send"]
    )


# -- the context on the envelope ---------------------------------------------------------------


def carrier() -> dict[str, str]:
    """The current trace context as W3C headers (`traceparent`, `tracestate`); {} when none."""
    if not _enabled:
        return {}
    headers: dict[str, str] = {}
    propagate.inject(headers)
    return {k: v for k, v in headers.items() if k in ("traceparent", "tracestate")}


def stamp(envelope: Envelope) -> Envelope:
    """`envelope` carrying the current trace context, unless it already carries one."""
    if envelope.traceparent is not None:
        return envelope
    found = carrier()
    if "traceparent" not in found:
        return envelope
    return envelope.model_copy(
        update={"traceparent": found["traceparent"], "tracestate": found.get("tracestate")}
    )


def _extracted(stored: Mapping[str, Any] | None) -> otel_context.Context:
    headers = {k: str(v) for k, v in (stored or {}).items() if v is not None}
    return propagate.extract(headers)


def _envelope_carrier(envelope: Envelope) -> dict[str, str | None]:
    return {"traceparent": envelope.traceparent, "tracestate": envelope.tracestate}


def _messaging_span(
    name: str,
    envelope: Envelope,
    parent: otel_context.Context,
    kind: SpanKind,
    operation: str,
    **attributes: str,
) -> Any:
    if _unsampled(parent):
        # The trace goes on unsampled: what runs inside carries its context, and no span.
        return _within(parent)
    return _tracer().start_as_current_span(
        name,
        context=parent,
        kind=kind,
        attributes={
            "messaging.system": "dialog-bus",
            "messaging.operation.type": operation,
            "messaging.message.id": envelope.id,
            "cloudevents.event_type": envelope.type,
            **attributes,
        },
    )


@contextlib.contextmanager
def publishing(envelope: Envelope, routing_key: str) -> Iterator[Envelope]:
    """A producer span in the trace the envelope carries; yields the envelope to publish,
    carrying the span's context so that consumers are its children."""
    if not _enabled:
        yield envelope
        return
    parent = _extracted(_envelope_carrier(envelope))
    if _unsampled(parent):
        yield envelope  # it carries its unsampled trace on
        return
    with _messaging_span(
        f"publish {envelope.type}",
        envelope,
        parent,
        SpanKind.PRODUCER,
        "send",
        **{"messaging.destination.name": routing_key},
    ) as span:
        try:
            yield stamp(envelope.model_copy(update={"traceparent": None, "tracestate": None}))
        except Exception as exc:
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise


@contextlib.contextmanager
def consuming(envelope: Envelope, consumer: str) -> Iterator[None]:
    """The handler's span, a child of the context the envelope carries."""
    if not _enabled:
        yield
        return
    with _messaging_span(
        f"{consumer} process {envelope.type}",
        envelope,
        _extracted(_envelope_carrier(envelope)),
        SpanKind.CONSUMER,
        "process",
        **{"messaging.consumer.group.name": consumer},
    ):
        yield


@contextlib.contextmanager
def resumed(stored: Mapping[str, Any] | None, name: str, **attributes: str) -> Iterator[None]:
    """A span continuing a trace whose context was saved with the work (see `carrier()`), for
    work a loop picks up later than the request that asked for it (the notifier's SMS)."""
    if not _enabled:
        yield
        return
    parent = _extracted(stored)
    if _unsampled(parent):
        with _within(parent):
            yield
        return
    with _tracer().start_as_current_span(
        name, context=parent, kind=SpanKind.INTERNAL, attributes=attributes
    ):
        yield


def current_ids() -> tuple[str, str] | None:
    """(trace id, span id) in hex of the current span, for log lines; None outside a trace."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")
