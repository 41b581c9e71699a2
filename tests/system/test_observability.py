"""Seen in operation, in both modes: after one appeal through the booth API, /metrics counts the
appeal, the receipt and the SMS, with route templates rather than ids and no personal data; one
trace spans the gateway's submit, routing's handler and the notifier's SMS; and a real Prometheus
scraping the distributed system finds every metric its alerts and dashboard name."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from dialog_platform.net import free_port
from dialog_platform.testing.booth_api import file_appeal
from dialog_platform.testing.launch import Distributed
from dialog_platform.testing.monitoring import ALERTS, NOT_EXPOSED_YET, named_metrics
from dialog_platform.testing.otlp import OtlpReceiver, ReceivedSpan
from dialog_platform.testing.smsc import FakeSmscServer
from dialog_platform.testing.waiting import eventually

from .conftest import System, _distributed, _single
from .test_core_path import appeal_body

OFFICIAL_PHONE = "+77010000004"  # deputy-housing's, from the demo directory


@pytest.fixture(scope="module", params=["single", "distributed"])
def traced(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, rabbitmq_url: str
) -> Iterator[tuple[System, OtlpReceiver]]:
    """The system with tracing on, exporting to a local OTLP receiver."""
    receiver = OtlpReceiver().start()
    smsc = FakeSmscServer().start()
    tmp = tmp_path_factory.mktemp(f"traced-{request.param}")
    namespace = f"obs{uuid.uuid4().hex[:8]}"
    with pytest.MonkeyPatch.context() as env:
        # The processes inherit these; spans leave every 100 ms rather than every 5 s.
        env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
        env.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")
        if request.param == "single":
            systems = _single(tmp, smsc)
        else:
            systems = _distributed(tmp, rabbitmq_url, namespace, smsc)
        system = next(systems)
    try:
        yield system, receiver
    finally:
        systems.close()
        smsc.stop()
        receiver.stop()
        if request.param == "distributed":
            from dialog_platform.testing.fixtures import delete_namespace

            asyncio.run(delete_namespace(rabbitmq_url, namespace))


@pytest.fixture
def printer(traced: tuple[System, OtlpReceiver]) -> Iterator[Any]:
    """The booth's printer-agent for a kiosk of the traced system (in-process when single)."""
    system, _ = traced
    started: list[str] = []

    def start(kiosk_id: str) -> None:
        if isinstance(system.runner, Distributed):
            system.runner.start_one("printer-agent", printer_kiosk=kiosk_id)
            started.append(kiosk_id)

    yield start
    if started and isinstance(system.runner, Distributed):
        system.runner.processes["printer-agent"].stop()


def scrape(url: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def value(series: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    return sum(
        v for got, v in series.get(name, []) if all(got.get(k) == x for k, x in labels.items())
    )


def urls(system: System) -> list[str]:
    if isinstance(system.runner, Distributed):
        return [p.url for p in system.runner.processes.values() if p.alive()]
    return [system.gateway_url]


async def one_appeal(
    system: System, printer: Any, videos: dict[str, Path], http: httpx.AsyncClient
) -> dict[str, Any]:
    kiosk_id, token = system.kiosk_add()
    printer(kiosk_id)
    video = videos["short"].read_bytes()
    receipt = await file_appeal(http, system.gateway_url, token, appeal_body(), video)
    number = receipt["registration_number"]

    async def printed_and_told() -> bool:
        png = system.receipts_dir / f"{number}-1.png"
        told = any(number in m.text for m in system.smsc.state.sent_to(OFFICIAL_PHONE))
        return png.exists() and told

    await eventually(printed_and_told)
    return {"kiosk_id": kiosk_id, "appeal_id": receipt["appeal_id"], **receipt}


async def test_one_appeal_is_counted_with_route_templates_and_no_personal_data(
    traced: tuple[System, OtlpReceiver],
    printer: Any,
    videos: dict[str, Path],
    http: httpx.AsyncClient,
) -> None:
    system, _ = traced
    before = [scrape(u) for u in urls(system)]
    appeal = await one_appeal(system, printer, videos, http)
    kiosk = appeal["kiosk_id"]

    async def counted() -> list[dict[str, Any]] | None:
        after = [scrape(u) for u in urls(system)]
        printed = sum(value(s, "dialog_receipts_printed_total", kiosk=kiosk) for s in after)
        return after if printed == 1 else None

    after = await eventually(counted)

    def total(name: str, **labels: str) -> float:
        return sum(value(s, name, **labels) for s in after) - sum(
            value(s, name, **labels) for s in before
        )

    assert (
        total(
            "dialog_appeals_registered_total",
            service="kiosk-gateway",
            kiosk=kiosk,
            language="kk",
            category="question",
        )
        == 1
    )
    assert total("dialog_receipts_failed_total", kiosk=kiosk) == 0
    assert total("dialog_sms_sent_total", service="notifier") >= 1
    # HTTP by route template, under the service that owns the route.
    for method, route in (
        ("POST", "/api/v1/appeals"),
        ("PUT", "/api/v1/appeals/{appeal_id}/video"),
        ("POST", "/api/v1/appeals/{appeal_id}/submit"),
    ):
        assert (
            total(
                "dialog_http_requests_total",
                service="kiosk-gateway",
                method=method,
                route=route,
                status="201",
            )
            == 1
        ), route
    # The bus: routing handled the AppealRecorded and the notifier the AppealRouted.
    recorded = "kz.dialog.appeal.recorded.v1"
    assert total("dialog_bus_messages_handled_total", service="routing", event=recorded) >= 1
    assert total("dialog_bus_publish_confirms_total", service="kiosk-gateway", event=recorded) >= 1
    assert total("dialog_bus_handler_duration_seconds_count", service="notifier") >= 1
    assert any(
        value(s, "dialog_outbox_pending_entries", service="kiosk-gateway") == 0 for s in after
    )
    assert any(value(s, "dialog_ready") >= 1 for s in after)
    assert any(value(s, "dialog_cases_open", service="routing") >= 1 for s in after)
    # No id or personal data in any label.
    labels = {
        v for s in after for samples in s.values() for got, _ in samples for v in got.values()
    }
    secrets = (
        appeal["appeal_id"],
        appeal["registration_number"],
        appeal["access_code"],
        "900101400013",
        "Айгүл",
        "701 234",
        "7012345678",
    )
    for secret in secrets:
        assert not [v for v in labels if secret in v], secret


def spans_of(receiver: OtlpReceiver, trace_id: str) -> list[ReceivedSpan]:
    return [s for s in receiver.snapshot() if s.trace_id == trace_id]


async def test_one_trace_spans_the_submit_routing_and_the_sms(
    traced: tuple[System, OtlpReceiver],
    printer: Any,
    videos: dict[str, Path],
    http: httpx.AsyncClient,
) -> None:
    system, receiver = traced
    appeal = await one_appeal(system, printer, videos, http)

    async def whole_trace() -> list[ReceivedSpan] | None:
        submits = [
            s
            for s in receiver.snapshot()
            if s.name == "POST /api/v1/appeals/{appeal_id}/submit"
            and appeal["appeal_id"]
            in s.attributes.get("url.path", s.attributes.get("http.target", ""))
        ]
        if not submits:
            return None
        spans = spans_of(receiver, submits[0].trace_id)
        names = {s.name for s in spans}
        wanted = {
            "routing process kz.dialog.appeal.recorded.v1",
            "notifier process kz.dialog.appeal.routed.v1",
            "notifier send SMS",
        }
        return spans if wanted <= names else None

    spans = await eventually(whole_trace, timeout=30)
    by_id = {s.span_id: s for s in spans}
    # The official's SMS: its HTTP call to the SMS gateway is a child of the send, which is in
    # the trace through routing's handler and the notifier's.
    sends = [s for s in spans if s.name == "notifier send SMS"]
    calls = [s for s in spans if s.parent_span_id in {x.span_id for x in sends} and s.kind == 3]
    assert calls, "the SMS gateway call is not in the trace"

    def ancestors(span: ReceivedSpan) -> list[str]:
        names = []
        while span.parent_span_id in by_id:
            span = by_id[span.parent_span_id]
            names.append(span.name)
        return names

    chains = [ancestors(s) for s in sends]
    assert any(
        "notifier process kz.dialog.appeal.routed.v1" in c
        and "routing process kz.dialog.appeal.recorded.v1" in c
        and "POST /api/v1/appeals/{appeal_id}/submit" in c
        for c in chains
    ), chains
    if isinstance(system.runner, Distributed):
        services = {s.service for s in spans}
        assert {"kiosk-gateway", "routing", "notifier"} <= services
    # The gateway's log lines of the submit carry the trace id.
    log = (
        system.runner.processes["kiosk-gateway"].log
        if isinstance(system.runner, Distributed)
        else system.runner.process.log  # type: ignore[union-attr]
    )
    assert f'"trace_id": "{spans[0].trace_id}"' in log.read_text(errors="replace")


# The distributed system only: one target per service, as the cluster's Prometheus sees it.
@pytest.mark.parametrize("traced", ["distributed"], indirect=True)
def test_prometheus_scrapes_every_metric_its_alerts_and_dashboard_name(
    traced: tuple[System, OtlpReceiver], tmp_path: Path
) -> None:
    system, _ = traced
    assert isinstance(system.runner, Distributed)
    # A booth heard from, so the booth gauges have a series whichever tests ran before.
    _, token = system.kiosk_add()
    beat = httpx.post(
        f"{system.gateway_url}/api/v1/booth/heartbeat",
        headers={"Authorization": f"Bearer {token}"},
        json={"camera": True, "microphone": True, "page_version": "test"},
        timeout=10,
    )
    assert beat.status_code == 200, beat.text
    exe = shutil.which("prometheus")
    assert exe, "Debian's prometheus package is missing (scripts/system-packages.sh)"
    targets = [p.url.removeprefix("http://") for p in system.runner.processes.values() if p.alive()]
    config = tmp_path / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": [str(ALERTS)],
                "scrape_configs": [
                    {"job_name": "dialog", "static_configs": [{"targets": targets}]}
                ],
            }
        )
    )
    port = free_port()
    log = (tmp_path / "prometheus.log").open("wb")
    server = subprocess.Popen(
        [
            exe,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={k: v for k, v in os.environ.items() if not k.startswith("OTEL_")},
    )
    api = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 60
        names: set[str] = set()
        while time.monotonic() < deadline:
            try:
                up = httpx.get(f"{api}/query", params={"query": "up"}, timeout=5).json()
                results = up["data"]["result"]
                if len(results) == len(targets) and all(r["value"][1] == "1" for r in results):
                    names = set(httpx.get(f"{api}/label/__name__/values", timeout=5).json()["data"])
                    if named_metrics() - NOT_EXPOSED_YET <= names:
                        break
            except (httpx.HTTPError, KeyError):
                pass
            time.sleep(1)
        missing = named_metrics() - NOT_EXPOSED_YET - names
        assert not missing, (
            f"named by the alerts or the dashboard, never scraped: {sorted(missing)}"
        )
        # The rules loaded into this Prometheus are the deployment's, all of them.
        rules = httpx.get(f"{api}/rules", timeout=5).json()["data"]["groups"]
        deployed = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
        assert sum(len(g["rules"]) for g in rules) == sum(len(g["rules"]) for g in deployed)
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
