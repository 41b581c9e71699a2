"""InProcessBus: routing like the AMQP bindings, concurrent delivery, retries, dead letters."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import UTC, date, datetime

import pytest

from dialog_contracts import (
    AnswerPosted,
    AppealRouted,
    Envelope,
    Localized,
    ReceiptRequested,
)
from dialog_platform.bus import (
    BusError,
    InProcessBus,
    PublishError,
    RetryPolicy,
    create_bus,
)
from dialog_platform.bus.base import ANY_SUFFIX
from dialog_platform.settings import CommonSettings


def routed() -> Envelope:
    data = AppealRouted(
        appeal_id=uuid.uuid4().hex,
        registration_number="2025-000001-7",
        official_id="off-1",
        addressed_official_id="off-1",
        language="ru",
        control_date=date(2025, 3, 17),
        legal_deadline=date(2025, 3, 24),
        routed_at=datetime(2025, 3, 3, 10, 0, tzinfo=UTC),
    )
    return Envelope.wrap(data, source="test/routing")


def receipt(kiosk_id: str) -> tuple[Envelope, str]:
    data = ReceiptRequested(
        appeal_id=uuid.uuid4().hex,
        kiosk_id=kiosk_id,
        copy_number=1,
        registration_number="2025-000003-3",
        access_code="12345678",
        language="kk",
        category="question",
        recorded_at=datetime(2025, 3, 3, 10, 0, tzinfo=UTC),
        control_date=date(2025, 3, 17),
        center=Localized(kk="ХҚКО", ru="ЦОН"),
        official_name=Localized(kk="Әлия Қасымова", ru="Алия Касымова"),
        official_position=Localized(kk="әкім", ru="аким"),
        tracking_url="http://127.0.0.1:8080/track",
    )
    return Envelope.wrap(data, source="test/kiosk-gateway"), data.routing_key()


class DeadLetters:
    def __init__(self) -> None:
        self.items: list[tuple[Envelope, str, str]] = []

    async def __call__(self, envelope: Envelope, consumer: str, reason: str) -> None:
        self.items.append((envelope, consumer, reason))


FAST = RetryPolicy(max_attempts=3, delays_s=(0.05, 0.1))


async def test_publish_returns_after_every_matching_subscriber_handled_it() -> None:
    handled: list[tuple[str, str]] = []

    def slow(name: str, seconds: float):  # type: ignore[no-untyped-def]
        async def handler(envelope: Envelope) -> None:
            await asyncio.sleep(seconds)
            handled.append((name, envelope.id))

        return handler

    bus = InProcessBus(retry=FAST)
    bus.subscribe("notifier", AppealRouted, slow("notifier", 0.1))
    bus.subscribe("dashboard", AppealRouted, slow("dashboard", 0.2))
    bus.subscribe("routing", AnswerPosted, slow("routing", 0))
    await bus.start()

    envelope = routed()
    await bus.publish(envelope, AppealRouted.ROUTING_KEY)
    assert sorted(handled) == [("dashboard", envelope.id), ("notifier", envelope.id)]
    await bus.close()


async def test_deliveries_to_different_subscribers_run_concurrently() -> None:
    arrived = 0
    both_in = asyncio.Event()

    async def waits_for_the_other(envelope: Envelope) -> None:
        nonlocal arrived
        arrived += 1
        if arrived == 2:
            both_in.set()
        # One at a time, the first handler would wait here forever.
        await both_in.wait()

    bus = InProcessBus(retry=FAST)
    bus.subscribe("notifier", AppealRouted, waits_for_the_other)
    bus.subscribe("dashboard", AppealRouted, waits_for_the_other)
    await bus.start()
    await asyncio.wait_for(bus.publish(routed(), AppealRouted.ROUTING_KEY), timeout=5)
    assert arrived == 2


async def test_an_event_without_subscribers_is_accepted() -> None:
    bus = InProcessBus(retry=FAST)
    await bus.start()
    await bus.publish(routed(), AppealRouted.ROUTING_KEY)
    assert await bus.ping()


async def test_per_kiosk_routing_matches_the_suffix_only() -> None:
    got: dict[str, list[str]] = {"a": [], "b": [], "all": []}

    def into(key: str):  # type: ignore[no-untyped-def]
        async def handler(envelope: Envelope) -> None:
            got[key].append(envelope.data["kiosk_id"])

        return handler

    bus = InProcessBus(retry=FAST)
    bus.subscribe("printer-agent", ReceiptRequested, into("a"), key_suffix="kiosk-a")
    bus.subscribe("printer-agent", ReceiptRequested, into("b"), key_suffix="kiosk-b")
    # Bound to the bare key, as a topic binding without wildcards it matches no kiosk's receipt.
    bus.subscribe("spy", ReceiptRequested, into("all"))
    await bus.start()
    await bus.ensure_queue("printer-agent", ReceiptRequested, "kiosk-c")

    for kiosk in ("kiosk-a", "kiosk-a", "kiosk-b", "kiosk-c"):
        envelope, key = receipt(kiosk)
        await bus.publish(envelope, key)
    assert got == {"a": ["kiosk-a", "kiosk-a"], "b": ["kiosk-b"], "all": []}


async def test_an_any_kiosk_subscription_gets_every_kiosks_receipts_only() -> None:
    got: list[str] = []

    async def printer(envelope: Envelope) -> None:
        got.append(envelope.data["kiosk_id"])

    bus = InProcessBus(retry=FAST)
    bus.subscribe("printer-agent", ReceiptRequested, printer, key_suffix=ANY_SUFFIX)
    await bus.start()
    for kiosk in ("kiosk-a", "kiosk-b"):
        envelope, key = receipt(kiosk)
        await bus.publish(envelope, key)
    await bus.publish(routed(), AppealRouted.ROUTING_KEY)
    await bus.publish(receipt("kiosk-a")[0], ReceiptRequested.ROUTING_KEY)  # no kiosk part
    assert got == ["kiosk-a", "kiosk-b"]


async def test_a_failing_handler_is_retried_with_backoff_and_succeeds_once() -> None:
    calls: list[float] = []
    dead = DeadLetters()

    async def flaky(envelope: Envelope) -> None:
        calls.append(time.monotonic())
        if len(calls) <= 2:
            raise ConnectionError("SMS gateway unreachable")

    other: list[str] = []

    async def steady(envelope: Envelope) -> None:
        other.append(envelope.id)

    bus = InProcessBus(
        retry=RetryPolicy(max_attempts=4, delays_s=(0.1, 0.2, 0.4)), dead_letter=dead
    )
    bus.subscribe("notifier", AppealRouted, flaky)
    bus.subscribe("dashboard", AppealRouted, steady)
    await bus.start()

    envelope = routed()
    await bus.publish(envelope, AppealRouted.ROUTING_KEY)
    assert len(calls) == 3
    assert calls[1] - calls[0] >= 0.1 * 0.9
    assert calls[2] - calls[1] >= 0.2 * 0.9
    assert other == [envelope.id]
    assert dead.items == []


async def test_an_always_failing_handler_is_dead_lettered_and_publish_returns() -> None:
    calls = 0
    dead = DeadLetters()

    async def broken(envelope: Envelope) -> None:
        nonlocal calls
        calls += 1
        raise ValueError("no such official")

    bus = InProcessBus(retry=FAST, dead_letter=dead)
    bus.subscribe("notifier", AppealRouted, broken)
    await bus.start()

    envelope = routed()
    await asyncio.wait_for(bus.publish(envelope, AppealRouted.ROUTING_KEY), timeout=5)
    assert calls == 3
    [(letter, consumer, reason)] = dead.items
    assert letter == envelope
    assert consumer == "notifier"
    assert reason == "ValueError: no such official"


async def test_the_default_dead_letter_logs_an_error(caplog: pytest.LogCaptureFixture) -> None:
    async def broken(envelope: Envelope) -> None:
        raise ValueError("poison")

    bus = InProcessBus(retry=RetryPolicy(max_attempts=1))
    bus.subscribe("notifier", AppealRouted, broken)
    await bus.start()
    envelope = routed()
    with caplog.at_level(logging.ERROR, logger="dialog_platform.bus"):
        await bus.publish(envelope, AppealRouted.ROUTING_KEY)
    dead_lettered = [r for r in caplog.records if "dead letter" in r.getMessage()]
    assert len(dead_lettered) == 1
    assert dead_lettered[0].levelno == logging.ERROR
    assert envelope.id in dead_lettered[0].getMessage()


async def test_publish_raises_when_the_dead_letter_cannot_be_recorded() -> None:
    async def broken(envelope: Envelope) -> None:
        raise ValueError("poison")

    async def database_down(envelope: Envelope, consumer: str, reason: str) -> None:
        raise OSError("database unreachable")

    bus = InProcessBus(retry=RetryPolicy(max_attempts=1), dead_letter=database_down)
    bus.subscribe("notifier", AppealRouted, broken)
    await bus.start()
    # The outbox then keeps the event and tries again: nothing is lost.
    with pytest.raises(PublishError):
        await bus.publish(routed(), AppealRouted.ROUTING_KEY)


async def test_each_subscriber_gets_its_own_copy() -> None:
    seen: list[str] = []

    async def meddler(envelope: Envelope) -> None:
        envelope.data["official_id"] = "someone-else"

    async def reader(envelope: Envelope) -> None:
        await asyncio.sleep(0.01)
        seen.append(envelope.data["official_id"])

    bus = InProcessBus(retry=FAST)
    bus.subscribe("notifier", AppealRouted, meddler)
    bus.subscribe("dashboard", AppealRouted, reader)
    await bus.start()
    envelope = routed()
    await bus.publish(envelope, AppealRouted.ROUTING_KEY)
    assert seen == ["off-1"]
    assert envelope.data["official_id"] == "off-1"


async def test_lifecycle_rules_match_the_amqp_bus() -> None:
    async def nothing(envelope: Envelope) -> None:
        return None

    bus = InProcessBus(retry=FAST)
    with pytest.raises(ValueError):
        bus.subscribe("printer-agent", ReceiptRequested, nothing, key_suffix="kiosk.*")
    await bus.start()
    with pytest.raises(BusError):
        bus.subscribe("notifier", AppealRouted, nothing)
    await bus.close()
    assert not await bus.ping()
    with pytest.raises(PublishError):
        await bus.publish(routed(), AppealRouted.ROUTING_KEY)


async def test_close_waits_for_a_delivery_in_progress() -> None:
    finished: list[str] = []

    async def slow(envelope: Envelope) -> None:
        await asyncio.sleep(0.2)
        finished.append(envelope.id)

    bus = InProcessBus(retry=FAST)
    bus.subscribe("notifier", AppealRouted, slow)
    await bus.start()
    envelope = routed()
    publishing = asyncio.create_task(bus.publish(envelope, AppealRouted.ROUTING_KEY))
    await asyncio.sleep(0.05)
    await bus.close()
    assert finished == [envelope.id]
    await publishing


async def test_create_bus_without_a_url_is_in_process_with_the_settings_policy() -> None:
    dead = DeadLetters()
    settings = CommonSettings(bus_url=None, bus_max_attempts=2, bus_retry_first_delay_s=0.05)
    bus = create_bus(settings, dead_letter=dead)
    assert isinstance(bus, InProcessBus)
    calls = 0

    async def broken(envelope: Envelope) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("nope")

    bus.subscribe("notifier", AppealRouted, broken)
    await bus.start()
    await bus.publish(routed(), AppealRouted.ROUTING_KEY)
    assert calls == 2
    assert len(dead.items) == 1
