"""Declares kiosk-gateway to the runner."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys

from dialog_platform.component import Component, Context, Running
from dialog_platform.ratelimit import SlidingWindow
from dialog_platform.settings import get_service_settings

from . import handlers
from . import repository as repo
from .api import build_router
from .clients import DirectoryClient, MediaClient
from .commands import KIOSK_COMMAND
from .service import Gateway
from .settings import KioskGatewaySettings

log = logging.getLogger(__name__)

DEMO_KIOSK = "demo"
DEMO_LOCATION = "Демо ХҚКО / Демо ЦОН"


def build_gateway(ctx: Context) -> Gateway:
    settings = get_service_settings(KioskGatewaySettings)
    return Gateway(
        db=ctx.db,
        outbox=ctx.outbox,
        bus=ctx.bus,
        settings=settings,
        directory=DirectoryClient(
            ctx.http, ctx.service_url("routing"), cache_s=settings.directory_cache_s
        ),
        media=MediaClient(ctx.http, ctx.service_url("media-store"), ctx.settings),
        public_url=ctx.public_url,
        clock=ctx.clock,
        ip_limiter=SlidingWindow(settings.lookup_per_ip_per_minute, 60.0),
    )


async def build(ctx: Context) -> Running:
    gateway = build_gateway(ctx)
    handlers.subscribe(ctx.bus, gateway)
    janitor: list[asyncio.Task[None]] = []

    async def housekeeping() -> None:
        while True:
            await asyncio.sleep(300)
            try:
                await gateway.expire_drafts()
            except Exception:
                log.exception("draft expiry failed")

    async def start() -> None:
        await repo.create_indexes(ctx.db)
        if ctx.settings.is_development and not await repo.list_kiosks(ctx.db):
            await gateway.register_kiosk(DEMO_KIOSK, DEMO_LOCATION)
            print(
                f"A demo kiosk '{DEMO_KIOSK}' was registered. Issue its token with:\n"
                f"  .venv/bin/dialog kiosk add {DEMO_KIOSK} --rotate --location '{DEMO_LOCATION}'",
                file=sys.stderr,
            )
        await gateway.ensure_kiosk_queues()
        janitor.append(asyncio.create_task(housekeeping(), name="kiosk-gateway-housekeeping"))

    async def stop() -> None:
        for task in janitor:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return Running(
        routers=[build_router(gateway)],
        on_start=[start],
        on_stop=[stop],
        uses_outbox=True,
    )


component = Component(
    name="kiosk-gateway",
    description="booth API, appeal intake, registration numbers, citizens' look-up",
    build=build,
    commands=(KIOSK_COMMAND,),
    settings=KioskGatewaySettings,
)
