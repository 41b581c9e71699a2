"""/metrics: route templates not paths, one fixed label for unmatched paths, the service that
owns a route, scrape-time gauges, and the outbox's pending entries."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import APIRouter, FastAPI
from prometheus_client.parser import text_string_to_metric_families

from dialog_contracts import AnswerPosted, Envelope
from dialog_platform import metrics
from dialog_platform.documents import connect
from dialog_platform.metrics import install_metrics, on_scrape
from dialog_platform.outbox import Outbox, Pending

from .test_outbox import RecordingBus, answer


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    found: dict[tuple[tuple[str, str], ...], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def app_with_routes(targets: list[str]) -> FastAPI:
    app = FastAPI()
    router = APIRouter()

    @router.get("/api/v1/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    app.include_router(router)
    install_metrics(app, targets)
    return app


async def scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_requests_are_counted_by_route_template_never_by_path() -> None:
    app = app_with_routes(["tests"])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for n in range(3):
            assert (await client.get(f"/api/v1/things/secret-{n}")).status_code == 200
        assert (await client.get("/no/such/path/900101400013")).status_code == 404
        text = await scrape(client)
    requests = samples(text, "dialog_http_requests_total")
    templated = (
        ("method", "GET"),
        ("route", "/api/v1/things/{thing_id}"),
        ("service", "tests"),
        ("status", "200"),
    )
    assert requests[templated] >= 3
    unmatched = (("method", "GET"), ("route", "unmatched"), ("service", "tests"), ("status", "404"))
    assert requests[unmatched] >= 1
    assert "secret-" not in text and "900101400013" not in text
    durations = samples(text, "dialog_http_request_duration_seconds_count")
    assert (
        durations[(("method", "GET"), ("route", "/api/v1/things/{thing_id}"), ("service", "tests"))]
        >= 3
    )
    # No `_created` twin of every series.
    assert "_created" not in text


async def test_a_route_is_counted_under_the_component_whose_package_declared_it() -> None:
    # The endpoint above lives in this test module, whose package is not a component: it counts
    # under the process's own label, `dialog` when several components run.
    app = app_with_routes(["routing", "notifier"])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        await client.get("/api/v1/things/x")
        text = await scrape(client)
    services = {dict(k)["service"] for k in samples(text, "dialog_http_requests_total")}
    assert "dialog" in services


async def test_scrape_time_gauges_are_set_first_and_a_failing_one_is_skipped() -> None:
    reads: list[int] = []
    gauge = metrics.gauge("dialog_test_things", "A gauge of the tests.", ("kind",))

    async def refresh() -> None:
        reads.append(1)
        gauge.labels("tests", "a").set(len(reads))

    async def broken() -> None:
        raise ConnectionError("backend away")

    remove = on_scrape(refresh)
    remove_broken = on_scrape(broken)
    try:
        app = app_with_routes(["tests"])
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await scrape(client)
            text = await scrape(client)
    finally:
        remove()
        remove_broken()
    assert samples(text, "dialog_test_things") == {(("kind", "a"), ("service", "tests")): 2.0}


def test_a_counter_must_be_named_like_one_and_the_service_label_is_the_platforms() -> None:
    import pytest

    with pytest.raises(ValueError, match="_total"):
        metrics.counter("dialog_things", "x")
    with pytest.raises(ValueError, match="service"):
        metrics.gauge("dialog_other_things", "x", ("service",))
    # Declared twice (a module imported again), it is the same metric.
    assert metrics.counter("dialog_twice_total", "x") is metrics.counter("dialog_twice_total", "x")


async def test_the_outbox_reports_its_pending_entries_and_the_oldest_ones_age(
    mongo_url: str, db_prefix: str
) -> None:
    client: Any = connect(mongo_url)
    try:
        db = client[f"{db_prefix}_metrics"]
        outbox = Outbox(db, RecordingBus(), source="/dialog/metrics-test")
        await outbox.create_indexes()
        await outbox.measure()
        labels = (("service", "metrics-test"),)
        text = metrics.generate_latest(metrics.REGISTRY).decode()
        assert samples(text, "dialog_outbox_pending_entries")[labels] == 0
        assert samples(text, "dialog_outbox_oldest_pending_age_seconds")[labels] == 0

        async def two(tx: Pending) -> None:
            tx.add(answer(1))
            tx.add(answer(2))

        await outbox.run(two)
        await outbox.measure()
        text = metrics.generate_latest(metrics.REGISTRY).decode()
        assert samples(text, "dialog_outbox_pending_entries")[labels] == 2
        assert samples(text, "dialog_outbox_oldest_pending_age_seconds")[labels] >= 0
        assert await outbox.relay_once() == 2
        await outbox.measure()
        text = metrics.generate_latest(metrics.REGISTRY).decode()
        assert samples(text, "dialog_outbox_pending_entries")[labels] == 0
    finally:
        await client.close()


def test_the_trace_context_on_the_envelope_is_optional_and_survives_the_wire() -> None:
    event = answer(1)
    plain = Envelope.wrap(event, source="/dialog/dashboard")
    # Unset, it is not on the wire at all: an old consumer sees what it always did.
    assert b"traceparent" not in plain.to_bytes()
    traced = plain.model_copy(
        update={"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
    )
    again = Envelope.from_bytes(traced.to_bytes())
    assert again.traceparent == traced.traceparent and again.parse(AnswerPosted) == event
    # An envelope from before the extension parses as before.
    assert Envelope.from_bytes(plain.to_bytes()).traceparent is None
