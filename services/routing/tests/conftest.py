"""A routing rig: the real component (as the runner builds it) on nx-27017 and the in-process bus,
served through its own FastAPI app, with a clock the test moves and a recorder of every event
routing publishes."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image
from pymongo import AsyncMongoClient

from dialog_contracts import (
    EVENTS,
    AnswerPosted,
    AppealRecorded,
    Envelope,
    EventData,
    VideoRef,
)
from dialog_platform.bus import Bus, InProcessBus, RetryPolicy
from dialog_platform.component import Context, Running
from dialog_platform.documents import connect
from dialog_platform.errors import DialogApp, install_error_handlers
from dialog_platform.internal import internal_headers
from dialog_platform.settings import CommonSettings
from routing.component import build
from routing.settings import RoutingSettings

# Mon 2 Nov 2026, 10:00 in Almaty. No holiday nearby: d1-4 = 3-6 Nov, d5-9 = 9-13, d10-14 =
# 16-20, d15 = Mon 23 Nov (legal deadline); control date 2 Nov + 14 = Mon 16 Nov.
RECORDED_AT = datetime(2026, 11, 2, 5, 0, tzinfo=UTC)
CONTROL = date(2026, 11, 16)
LEGAL = date(2026, 11, 23)
OWN_EVENTS = [e for e in EVENTS if e.__name__ not in ("AppealRecorded", "AnswerPosted")]


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def move(self, by: timedelta) -> None:
        self.now += by

    def set(self, at: datetime) -> None:
        self.now = at


@dataclass
class Rig:
    app: FastAPI
    http: httpx.AsyncClient
    ctx: Context
    running: Running
    bus: Bus
    clock: Clock
    published: list[Envelope] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    async def settle(self) -> None:
        """Relay what routing put in its outbox (the runner's relay does this in production)."""
        await self.ctx.outbox.relay_once()

    async def publish(self, data: EventData, times: int = 1) -> None:
        envelope = Envelope.wrap(data, source="/test")
        for _ in range(times):
            await self.bus.publish(envelope, data.routing_key())
        await self.settle()

    def events(self, event_type: type[EventData]) -> list[Any]:
        return [e.parse(event_type) for e in self.published if e.type == event_type.TYPE]

    async def record(self, appeal_id: str = "a1", **changes: Any) -> dict[str, Any]:
        await self.publish(recorded(appeal_id, **changes))
        return await self.case(appeal_id)

    async def case(self, appeal_id: str) -> dict[str, Any]:
        r = await self.http.get(f"/api/v1/cases/{appeal_id}", headers=self.headers)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def answer(self, appeal_id: str, at: datetime, official_id: str = "akim") -> None:
        await self.publish(
            AnswerPosted(
                appeal_id=appeal_id,
                registration_number=f"2026-{appeal_id}",
                official_id=official_id,
                answered_at=at,
                has_video=False,
            )
        )

    async def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return await self.http.post(path, json=body, headers=self.headers)

    async def patch(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return await self.http.patch(path, json=body, headers=self.headers)


def recorded(appeal_id: str = "a1", **changes: Any) -> AppealRecorded:
    fields: dict[str, Any] = {
        "appeal_id": appeal_id,
        "registration_number": f"2026-{appeal_id}",
        "kiosk_id": "booth-1",
        "official_id": "deputy-housing",
        "category": "question",
        "language": "ru",
        "phone": "+77012345678",
        "recorded_at": RECORDED_AT,
        "control_date": CONTROL,
        "legal_deadline": LEGAL,
        "video": VideoRef(
            key=f"appeals/{appeal_id}.webm", duration_s=30, size=1000, sha256="0" * 64
        ),
    }
    fields.update(changes)
    return AppealRecorded(**fields)


def png(size: tuple[int, int] = (64, 64), fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "#336699").save(out, format=fmt)
    return out.getvalue()


RigFactory = Callable[..., Awaitable[Rig]]


@pytest.fixture
async def mongo(mongo_url: str) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    client = connect(mongo_url)
    yield client
    await client.close()


@pytest.fixture
async def start_rig(
    mongo: AsyncMongoClient[dict[str, Any]], db_prefix: str
) -> AsyncIterator[RigFactory]:
    """Builds routing; call again (after `stop`) for a restart on the same database."""
    started: list[tuple[Rig, contextlib.AsyncExitStack]] = []
    settings = CommonSettings(db_prefix=db_prefix)

    async def start(
        clock: Clock | None = None, bus: Bus | None = None, **routing_settings: Any
    ) -> Rig:
        clock = clock or Clock(RECORDED_AT + timedelta(minutes=1))
        # The recorder listens on the in-process bus only; over RabbitMQ its own queues would
        # hide a missing binding in the shared topology.
        record = bus is None
        bus = bus or InProcessBus(retry=RetryPolicy(max_attempts=3, delays_s=(0.01, 0.01)))
        stack = contextlib.AsyncExitStack()
        http_out = await stack.enter_async_context(httpx.AsyncClient())
        ctx = Context(
            name="routing",
            settings=settings,
            bus=bus,
            mongo=mongo,
            media=None,
            http=http_out,
            base_urls={},
            clock=clock,
            # An hour between scans: the tests trigger scans themselves, except the one at start.
            own_settings=RoutingSettings(timer_interval_s=3600, **routing_settings),
        )
        running = await build(ctx)
        published: list[Envelope] = []

        async def keep(envelope: Envelope) -> None:
            published.append(envelope)

        for event in OWN_EVENTS if record else []:
            bus.subscribe("test-recorder", event, keep)
        app = DialogApp()
        app.state.settings = settings
        install_error_handlers(app)
        for router in running.routers:
            app.include_router(router)
        await bus.start()
        for hook in running.on_start:
            await hook()
        await ctx.outbox.create_indexes()
        client = await stack.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                base_url="http://routing",
            )
        )
        rig = Rig(
            app=app,
            http=client,
            ctx=ctx,
            running=running,
            bus=bus,
            clock=clock,
            published=published,
            headers=internal_headers(settings),
        )
        started.append((rig, stack))
        await asyncio.sleep(0.05)  # let the scan at start run (it fires what is already due)
        await rig.settle()
        return rig

    yield start
    for rig, stack in started:
        await stop(rig)
        await stack.aclose()
    await mongo.drop_database(f"{db_prefix}_routing")


async def stop(rig: Rig) -> None:
    for hook in rig.running.on_stop:
        await hook()
    await rig.bus.close()


@pytest.fixture
async def rig(start_rig: RigFactory) -> Rig:
    return await start_rig()
