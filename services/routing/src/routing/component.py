"""Declares routing to the runner."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from dialog_platform import metrics as platform_metrics
from dialog_platform.component import Component, Context, Running
from dialog_platform.periodic import Periodic

from . import handlers
from . import repository as repo
from .api import cases_router, directory_router, open_figures_router
from .directory import Directory
from .disputes import Disputes
from .metrics import case_gauges
from .open_figures import OpenFigures
from .retention import Retention
from .service import Routing, load_seed
from .settings import RoutingSettings
from .timers import Timers


def build_retention(ctx: Context, settings: RoutingSettings) -> Retention:
    return Retention(
        db=ctx.db,
        outbox=ctx.outbox,
        clock=ctx.clock,
        periods={
            "video": timedelta(days=settings.retention_video_days),
            "personal": timedelta(days=settings.retention_personal_days),
        },
    )


async def run_retention(ctx: Context, dry_run: bool) -> list[str]:
    """`dialog retention run`: the decision is saved with its events in routing's outbox, which
    the running routing relays to the other services."""
    retention = build_retention(ctx, ctx.settings_of(RoutingSettings))
    return [d.line() for d in await retention.run(dry_run=dry_run)]


async def build(ctx: Context) -> Running:
    settings = ctx.settings_of(RoutingSettings)
    lead = settings.reminder_lead_working_days
    directory = Directory(db=ctx.db, clock=ctx.clock, outbox=ctx.outbox)
    routing = Routing(
        db=ctx.db, outbox=ctx.outbox, clock=ctx.clock, directory=directory, lead_working_days=lead
    )
    timers = Timers(db=ctx.db, outbox=ctx.outbox, clock=ctx.clock, lead_working_days=lead)
    loop = Periodic("routing-deadline-timers", timers.scan, interval_s=settings.timer_interval_s)
    retention = build_retention(ctx, settings)
    daily = Periodic("routing-retention", retention.run, interval_s=settings.retention_interval_s)
    figures = OpenFigures(
        db=ctx.db,
        directory=directory,
        clock=ctx.clock,
        today=routing.today,
        interval_s=settings.open_figures_interval_s,
    )
    disputes = Disputes(routing=routing, follow_up_working_days=settings.follow_up_working_days)
    handlers.subscribe(ctx.bus, routing, disputes)
    unwatch: list[Callable[[], None]] = []

    async def start() -> None:
        await repo.create_indexes(ctx.db)
        await directory.stamp_versions()
        if settings.seed_file is not None or ctx.settings.is_development:
            await directory.seed(load_seed(settings.seed_file))
        # After the indexes: the first scan picks up whatever fell due while routing was down.
        loop.start()
        daily.start()
        unwatch.append(platform_metrics.on_scrape(case_gauges(routing)))

    async def stop() -> None:
        await loop.stop()
        await daily.stop()
        for remove in unwatch:
            remove()

    return Running(
        routers=[
            directory_router(directory),
            cases_router(routing, timers, retention, disputes),
            open_figures_router(figures),
        ],
        on_start=[start],
        on_stop=[stop],
        uses_outbox=True,
    )


component = Component(
    name="routing",
    description="officials directory, case assignment, deadlines",
    build=build,
    settings=RoutingSettings,
    retention=run_retention,
)
