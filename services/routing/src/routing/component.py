"""Declares routing to the runner."""

from __future__ import annotations

from dialog_platform.component import Component, Context, Running
from dialog_platform.settings import get_service_settings

from . import handlers
from . import repository as repo
from .api import build_router
from .service import Routing, load_seed
from .settings import RoutingSettings


async def build(ctx: Context) -> Running:
    settings = get_service_settings(RoutingSettings)
    routing = Routing(db=ctx.db, outbox=ctx.outbox, clock=ctx.clock)
    handlers.subscribe(ctx.bus, routing)

    async def start() -> None:
        await repo.create_indexes(ctx.db)
        if settings.seed_file is not None or ctx.settings.is_development:
            await routing.seed(load_seed(settings.seed_file))

    return Running(routers=[build_router(routing)], on_start=[start], uses_outbox=True)


component = Component(
    name="routing",
    description="officials directory, case assignment, deadlines",
    build=build,
    settings=RoutingSettings,
)
