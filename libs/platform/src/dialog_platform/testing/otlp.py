"""A local OTLP/HTTP trace receiver for tests and benchmarks: what a collector would be given.

It takes `POST /v1/traces` (protobuf, as the OTLP HTTP exporter sends it) on a loopback port
and keeps every span, with its service's name, in memory.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


@dataclass(frozen=True)
class ReceivedSpan:
    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    service: str
    kind: int
    attributes: dict[str, str]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: OtlpReceiver


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        if self.path != "/v1/traces":
            self.send_response(404)
            self.end_headers()
            return
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        self.server.receiver.add(request)
        reply = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _value(any_value: Any) -> str:
    kind = any_value.WhichOneof("value")
    return "" if kind is None else str(getattr(any_value, kind))


class OtlpReceiver:
    def __init__(self, *, count_only: bool = False) -> None:
        self.spans: list[ReceivedSpan] = []
        self.requests = 0
        # A benchmark needs the number only; building each span's record costs its CPU.
        self.count_only = count_only
        self.counted = 0
        self._lock = threading.Lock()
        self._server: _Server | None = None

    @property
    def endpoint(self) -> str:
        """The base URL for OTEL_EXPORTER_OTLP_ENDPOINT."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def add(self, request: ExportTraceServiceRequest) -> None:
        if self.count_only:
            spans = sum(len(s.spans) for r in request.resource_spans for s in r.scope_spans)
            with self._lock:
                self.counted += spans
                self.requests += 1
            return
        found: list[ReceivedSpan] = []
        for resource_spans in request.resource_spans:
            attributes = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            service = attributes.get("service.name", "")
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    found.append(
                        ReceivedSpan(
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_span_id=span.parent_span_id.hex(),
                            name=span.name,
                            service=service,
                            kind=span.kind,
                            attributes={a.key: _value(a.value) for a in span.attributes},
                        )
                    )
        with self._lock:
            self.spans.extend(found)
            self.requests += 1

    def snapshot(self) -> list[ReceivedSpan]:
        with self._lock:
            return list(self.spans)

    def start(self) -> OtlpReceiver:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.receiver = self
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class OtlpReceiverProcess:
    """A receiver in a process of its own, as a collector would be, for benchmarks.

    In the benchmark's process it would take the GIL from the stand-ins there (the SMSC server),
    slowing the instrumented run for a reason a deployment does not have.
    """

    def __init__(self) -> None:
        self._popen: subprocess.Popen[str] | None = None
        self.endpoint = ""
        self.spans = 0

    def start(self) -> OtlpReceiverProcess:
        self._popen = subprocess.Popen(
            [sys.executable, "-m", "dialog_platform.testing.otlp"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._popen.stdout is not None
        self.endpoint = self._popen.stdout.readline().strip()
        if not self.endpoint.startswith("http://"):
            raise RuntimeError(f"the OTLP receiver did not start: {self.endpoint!r}")
        return self

    def stop(self) -> int:
        """Stop it; the number of spans it received."""
        if self._popen is not None:
            out, _ = self._popen.communicate(timeout=30)
            self.spans = int(out.strip() or 0)
            self._popen = None
        return self.spans


def main() -> int:
    """Serve until standard input closes, then print how many spans came."""
    receiver = OtlpReceiver(count_only=True).start()
    print(receiver.endpoint, flush=True)
    sys.stdin.read()
    receiver.stop()
    print(receiver.counted, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
