"""How kiosk-gateway's parts are put together from a context: shared by the running
component and the `dialog kiosk` command, which import this and not each other."""

from __future__ import annotations

from dataclasses import dataclass

from dialog_platform.clients import MediaClient
from dialog_platform.component import Context
from dialog_platform.ratelimit import Lockout, SlidingWindow

from .clients import DashboardClient, RoutingClient
from .directory import DirectoryReplica
from .health import BoothHealth
from .kiosks import KioskRegistry
from .lookup import Lookup
from .reference import ReferenceDesk
from .service import Gateway
from .settings import KioskGatewaySettings


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
    routing = RoutingClient(ctx.http, ctx.service_url("routing"), ctx.settings)
    # Optional: a gateway deployed without the dashboard still shows status and dates, and
    # the booth then shows no reference entries.
    dashboard = DashboardClient(ctx.http, ctx.optional_url("dashboard"), ctx.settings)
    directory = DirectoryReplica(ctx.db, routing)
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
        dashboard=dashboard,
        routing=routing,
        tracking_url=gateway.tracking_url(),
    )
    kiosks = KioskRegistry(db=ctx.db, bus=ctx.bus, clock=ctx.clock)
    health = BoothHealth(db=ctx.db, outbox=ctx.outbox, settings=settings, clock=ctx.clock)
    desk = ReferenceDesk(ctx.db, dashboard)
    return Parts(
        desk=desk,
        gateway=gateway,
        kiosks=kiosks,
        lookup=lookup,
        settings=settings,
        directory=directory,
        health=health,
    )
