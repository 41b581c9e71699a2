"""Declares kiosk-gateway to the runner."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from datetime import timedelta

from dialog_platform import metrics
from dialog_platform.component import Component, Context, Running
from dialog_platform.internal import internal_headers
from dialog_platform.periodic import Periodic
from dialog_platform.ratelimit import SlidingWindow
from dialog_platform.replica import Reconciler

from . import handlers
from . import repository as repo
from .api import build_admin_router, build_reference_router, build_router
from .commands import KIOSK_COMMAND
from .help import REFERENCE_PRINTS_PER_HOUR, ReferencePrints
from .open_figures import RETRY_S, OpenFiguresCopy
from .pages.booth import build_pages_router
from .pages.help import build_help_router
from .pages.open_figures import build_open_router
from .settings import KioskGatewaySettings
from .wiring import build_parts

log = logging.getLogger(__name__)

# Drafts that were never submitted go, and a day's wrong codes are forgotten.
HOUSEKEEPING_S = 300
DEMO_KIOSK = "demo"
DEMO_LOCATION = "Демо ХҚКО / Демо ЦОН"


async def build(ctx: Context) -> Running:
    parts = build_parts(ctx)
    gateway = parts.gateway
    handlers.subscribe(ctx.bus, gateway, parts.lookup, parts.directory, parts.health, parts.desk)
    reconciler = Reconciler(
        parts.directory.collection, parts.directory.snapshot, name="kiosk-gateway-directory"
    )
    desk_reconciler = Reconciler(
        parts.desk.collection, parts.desk.snapshot, name="kiosk-gateway-reference"
    )

    async def housekeeping() -> None:
        await gateway.expire_drafts()
        await parts.lookup.lockout.forget(ctx.clock() - timedelta(days=1))

    janitor = Periodic("kiosk-gateway-housekeeping", housekeeping, interval_s=HOUSEKEEPING_S)

    watcher = Periodic(
        "kiosk-gateway-booth-health", parts.health.sweep, interval_s=parts.settings.health_check_s
    )

    figures = OpenFiguresCopy(
        db=ctx.db,
        http=ctx.http,
        routing_url=ctx.service_url("routing"),
        headers=internal_headers(ctx.settings),
        interval_s=parts.settings.open_figures_interval_s,
    )
    puller = Periodic("kiosk-gateway-open-figures", figures.refresh, interval_s=RETRY_S)
    unwatch: list[Callable[[], None]] = []

    async def start() -> None:
        await repo.create_indexes(ctx.db)
        await parts.lookup.lockout.create_indexes()
        await parts.health.create_indexes()
        if ctx.settings.is_development and not await repo.list_kiosks(ctx.db):
            await parts.kiosks.register(DEMO_KIOSK, DEMO_LOCATION)
            print(
                f"A demo kiosk '{DEMO_KIOSK}' was registered. Issue its token with:\n"
                f"  .venv/bin/dialog kiosk add {DEMO_KIOSK} --rotate --location '{DEMO_LOCATION}'",
                file=sys.stderr,
            )
        await parts.kiosks.ensure_queues()
        janitor.start()
        watcher.start()
        # The puller's first run loads the saved copy before asking routing; readiness does
        # not wait for it.
        puller.start()
        unwatch.append(metrics.on_scrape(parts.health.refresh_gauges))
        # In the background: a booth is served from the last known directory meanwhile, and
        # a routing that is down delays nothing.
        reconciler.start()
        if parts.desk.producer is not None:
            desk_reconciler.start()

    async def stop() -> None:
        for remove in unwatch:
            remove()
        await watcher.stop()
        await puller.stop()
        await reconciler.stop()
        await desk_reconciler.stop()
        await janitor.stop()

    return Running(
        routers=[
            build_router(gateway, parts.kiosks, parts.lookup, parts.health),
            build_admin_router(parts.kiosks),
            build_open_router(figures, development=ctx.settings.is_development),
            build_pages_router(
                parts.kiosks,
                parts.settings,
                ctx.settings,
                parts.directory.official,
                parts.desk.entry,
            ),
            build_reference_router(
                parts.desk,
                parts.kiosks,
                parts.directory,
                ReferencePrints(
                    parts.desk,
                    ctx.outbox,
                    ctx.public_url,
                    SlidingWindow(REFERENCE_PRINTS_PER_HOUR, 3600.0),
                ),
            ),
            build_help_router(parts.desk, ctx.settings),
        ],
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
    calls=("routing", "media-store"),
    may_call=("dashboard",),
)
