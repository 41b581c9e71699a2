"""How the dashboard's parts are put together from a context: shared by the running component
and the `dialog user` command, which import this and not each other."""

from __future__ import annotations

from dialog_platform.component import Context
from dialog_platform.ratelimit import SlidingWindow

from .accounts import Accounts
from .clients import MediaClient, NotifierClient, RoutingClient
from .service import Dashboard
from .settings import DashboardSettings


def build_accounts(ctx: Context) -> Accounts:
    settings = ctx.settings_of(DashboardSettings)
    return Accounts(
        db=ctx.db,
        settings=settings,
        clock=ctx.clock,
        ip_limiter=SlidingWindow(settings.login_per_ip_per_minute, 60.0),
    )


def build_dashboard(ctx: Context) -> Dashboard:
    media_url = ctx.service_url("media-store")
    return Dashboard(
        db=ctx.db,
        outbox=ctx.outbox,
        routing=RoutingClient(ctx.http, ctx.service_url("routing"), ctx.settings),
        media=MediaClient(ctx.http, media_url, ctx.settings),
        notifier=NotifierClient(ctx.http, ctx.service_url("notifier"), ctx.settings),
        clock=ctx.clock,
        # media-store's own playback links are paths; a browser needs its origin when it is
        # another process than this one.
        media_origin="" if media_url == ctx.optional_url("dashboard") else media_url,
    )
