"""Sampled and unsampled traces: what a sampled trace records (PyMongo, httpx, the bus) and what
an unsampled one still does (carries its context on) and skips (every span, PyMongo's events).

Tracing is set up once per process for good, so each case runs in a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SCRIPT = r"""
import asyncio, http.server, json, sys, threading

import httpx
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pymongo import AsyncMongoClient, monitoring

from datetime import UTC, date, datetime

from dialog_contracts import AppealRouted, Envelope
from dialog_platform import tracing

mongo_url, flags = sys.argv[1], sys.argv[2]
exporter = InMemorySpanExporter()
assert tracing.configure_tracing("probe", exporter=exporter)


class Counting(monitoring.CommandListener):
    count = 0
    def started(self, event):
        Counting.count += 1
    def succeeded(self, event): pass
    def failed(self, event): pass


monitoring.register(Counting())
seen = []


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        seen.append(self.headers.get("traceparent"))
        self.send_response(204)
        self.end_headers()
    def log_message(self, *args): pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
parent = f"00-{trace_id}-00f067aa0ba902b7-{flags}"
routed = AppealRouted(
    appeal_id="a1", registration_number="2026-000001-0", official_id="akim",
    addressed_official_id="akim", language="ru", control_date=date(2026, 12, 7),
    legal_deadline=date(2026, 12, 14), routed_at=datetime.now(UTC),
)
event = Envelope.wrap(routed, source="/probe").model_copy(update={"traceparent": parent})


async def main():
    client = AsyncMongoClient(mongo_url)
    try:
        with tracing.resumed({"traceparent": parent}, "probe work"):
            before = Counting.count
            await client["trace_probe"]["things"].find_one({"_id": "x"})
            commands = Counting.count - before
            async with httpx.AsyncClient() as http:
                await http.get(f"http://127.0.0.1:{server.server_port}/")
            passed_on = tracing.carrier().get("traceparent")
        with tracing.consuming(event, "probe"):
            in_handler = tracing.carrier().get("traceparent")
        with tracing.publishing(event, routed.routing_key()) as sent:
            published = sent.traceparent
    finally:
        await client.close()
    spans = exporter.get_finished_spans()
    print(json.dumps({
        "commands_published": commands,
        "sent_traceparent": seen[0],
        "carrier": passed_on,
        "in_handler": in_handler,
        "published": published,
        "spans": [
            {"name": s.name, "trace_id": format(s.context.trace_id, "032x"),
             "span_id": format(s.context.span_id, "016x"),
             "parent": format(s.parent.span_id, "016x") if s.parent else None}
            for s in spans
        ],
    }))


asyncio.run(main())
"""


def run_probe(mongo_url: str, flags: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, mongo_url, flags],
        capture_output=True,
        text=True,
        timeout=60,
        env={"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.1"},
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_a_sampled_trace_records_its_database_command_and_http_call(mongo_url: str) -> None:
    found = run_probe(mongo_url, "01")
    spans = {s["name"]: s for s in found["spans"]}
    assert "probe work" in spans and "trace_probe.find" in spans, spans
    work = spans["probe work"]
    assert all(s["trace_id"] == TRACE for s in spans.values())
    assert spans["trace_probe.find"]["parent"] == work["span_id"]
    http = [s for s in found["spans"] if s["name"] == "GET"]
    assert http and http[0]["parent"] == work["span_id"]
    # The called service continues the trace under the HTTP call's span, sampled.
    assert found["sent_traceparent"] == f"00-{TRACE}-{http[0]['span_id']}-01"
    assert found["commands_published"] >= 1
    # The handler of an event and the publish of one are spans of the event's trace.
    handler = spans["probe process kz.dialog.appeal.routed.v1"]
    assert handler["parent"] == "00f067aa0ba902b7"
    assert found["in_handler"] == f"00-{TRACE}-{handler['span_id']}-01"
    publish = spans["publish kz.dialog.appeal.routed.v1"]
    assert found["published"] == f"00-{TRACE}-{publish['span_id']}-01"


def test_an_unsampled_trace_records_nothing_but_carries_its_context_on(mongo_url: str) -> None:
    found = run_probe(mongo_url, "00")
    assert found["spans"] == []
    # PyMongo built no command events for it, for any listener.
    assert found["commands_published"] == 0
    # The called service and the next event stay in the same trace, unsampled.
    unsampled = f"00-{TRACE}-00f067aa0ba902b7-00"
    assert found["sent_traceparent"] == unsampled
    assert found["carrier"] == unsampled
    assert found["in_handler"] == unsampled
    assert found["published"] == unsampled
