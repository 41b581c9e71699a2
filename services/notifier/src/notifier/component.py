"""Declares notifier to the runner."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from dialog_platform.calendar import ALMATY
from dialog_platform.clients import ServiceApi
from dialog_platform.component import Check, Component, Context, Running
from dialog_platform.replica import Reconciler

from . import handlers
from . import repository as repo
from .api import build_router
from .service import Notifier
from .settings import NotifierSettings
from .smsc import SmscClient

log = logging.getLogger(__name__)


async def build(ctx: Context) -> Running:
    settings = ctx.settings_of(NotifierSettings)
    smsc = None
    if settings.smsc_url is not None:
        smsc = SmscClient(
            http=ctx.http,
            base_url=str(settings.smsc_url),
            login=settings.smsc_login,
            password=settings.smsc_password.get_secret_value(),
            apikey=settings.smsc_apikey.get_secret_value(),
            sender=settings.sender,
        )
    notifier = Notifier(
        db=ctx.db,
        smsc=smsc,
        clock=ctx.clock,
        quiet_start=settings.quiet_start,
        quiet_end=settings.quiet_end,
        timezone=ALMATY,
    )
    contacts = handlers.Contacts(
        ctx.db, ServiceApi(ctx.http, ctx.service_url("routing"), ctx.settings)
    )
    handlers.subscribe(ctx.bus, notifier, contacts, settings, ctx.public_url)
    reconciler = Reconciler(contacts.collection, contacts.snapshot, name="notifier-directory")
    tasks: list[asyncio.Task[None]] = []

    async def start() -> None:
        await repo.create_indexes(ctx.db)
        await repo.restore_due(ctx.db)
        # Sends what the handlers recorded (and held SMS once quiet hours end), retrying SMSC
        # outages with capped backoff; the handlers never wait on SMSC.
        tasks.append(asyncio.create_task(notifier.run(), name="notifier-sender"))
        # In the background: the events keep the read model; the snapshot fills a fresh one
        # and mends a gap, and a routing that is down delays nothing.
        reconciler.start()

    async def stop() -> None:
        await reconciler.stop()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    checks: dict[str, Check] = {}
    if smsc is not None:
        checks["sms-gateway"] = smsc.ping
    return Running(
        routers=[build_router(notifier)], on_start=[start], on_stop=[stop], checks=checks
    )


component = Component(
    name="notifier",
    description="SMS to officials and citizens through SMSC.kz",
    build=build,
    settings=NotifierSettings,
    calls=("routing",),
)
