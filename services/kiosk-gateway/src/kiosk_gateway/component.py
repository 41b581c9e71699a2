"""Declares kiosk-gateway to the runner."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from dialog_platform import metrics
from dialog_platform.component import Component, Context, Running
from dialog_platform.internal import internal_headers
from dialog_platform.periodic import Periodic
from dialog_platform.ratelimit import Lockout, SlidingWindow
from dialog_platform.replica import Reconciler

from . import handlers
from . import repository as repo
from .api import build_admin_router, build_router
from .clients import DashboardClient, MediaClient, RoutingClient
from .commands import KIOSK_COMMAND
from .directory import DirectoryReplica
from .health import BoothHealth
from .help import REFERENCE_PRINTS_PER_HOUR, build_reference_router
from .kiosks import KioskRegistry
from .lookup import Lookup
from .open_figures import RETRY_S, OpenFiguresCopy, build_open_router
from .pages import build_pages_router
from .reference import ReferenceDesk
from .service import Gateway
from .settings import KioskGatewaySettings

log = logging.getLogger(__name__)

# Drafts that were never submitted go, and a day's wrong codes are forgotten.
HOUSEKEEPING_S = 300
DEMO_KIOSK = "demo"
DEMO_LOCATION = "Демо ХҚКО / Демо ЦОН"


@dataclass
class Parts:
    gateway: Gateway
    kiosks: KioskRegistry
    lookup: Lookup
    settings: KioskGatewaySettings
    directory: DirectoryReplica
    health: BoothHealth
    desk: ReferenceDesk


def build_parts(ctx: Context) -> Parts:
    settings = ctx.settings_of(KioskGatewaySettings)
    directory = DirectoryReplica(
        db=ctx.db,
        http=ctx.http,
        routing_url=ctx.service_url("routing"),
        headers=internal_headers(ctx.settings),
    )
    media = MediaClient(ctx.http, ctx.service_url("media-store"), ctx.settings)
    gateway = Gateway(
        db=ctx.db,
        outbox=ctx.outbox,
        bus=ctx.bus,
        settings=settings,
        directory=directory,
        media=media,
        public_url=ctx.public_url,
        clock=ctx.clock,
    )
    lookup = Lookup(
        db=ctx.db,
        outbox=ctx.outbox,
        settings=settings,
        clock=ctx.clock,
        ip_limiter=SlidingWindow(settings.lookup_per_ip_per_minute, 60.0),
        kiosk_limiter=SlidingWindow(settings.lookup_per_kiosk_per_minute, 60.0),
        reprint_limiter=SlidingWindow(settings.reprints_per_hour, 3600.0),
        lockout=Lockout(
            failures=ctx.db.code_failures,
            clock=ctx.clock,
            per_client=settings.lookup_failures_per_number,
            lock_s=settings.lookup_lock_s,
            daily_cap=settings.lookup_failures_per_day,
            max_delay_s=settings.lookup_max_delay_s,
        ),
        directory=directory,
        media=media,
        # Optional: a gateway deployed without the dashboard still shows status and dates.
        dashboard=DashboardClient(ctx.http, ctx.optional_url("dashboard"), ctx.settings),
        routing=RoutingClient(ctx.http, ctx.service_url("routing"), ctx.settings),
        tracking_url=gateway.tracking_url(),
    )
    kiosks = KioskRegistry(db=ctx.db, bus=ctx.bus, clock=ctx.clock)
    health = BoothHealth(db=ctx.db, outbox=ctx.outbox, settings=settings, clock=ctx.clock)
    desk = ReferenceDesk(
        db=ctx.db,
        http=ctx.http,
        # Optional like the dashboard client above: without it the booth shows no entries.
        dashboard_url=ctx.optional_url("dashboard") or "",
        headers=internal_headers(ctx.settings),
    )
    return Parts(
        desk=desk,
        gateway=gateway,
        kiosks=kiosks,
        lookup=lookup,
        settings=settings,
        directory=directory,
        health=health,
    )


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
        if parts.desk.dashboard_url:
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
                ctx.settings,
                outbox=ctx.outbox,
                public_url=ctx.public_url,
                prints=SlidingWindow(REFERENCE_PRINTS_PER_HOUR, 3600.0),
            ),
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
