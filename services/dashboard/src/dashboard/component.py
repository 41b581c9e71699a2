"""Declares dashboard, the officials' web app, to the runner."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from datetime import timedelta

from dialog_platform.bus.deadletters import open_dead_letters
from dialog_platform.component import Component, Context, Running
from dialog_platform.periodic import Periodic

from . import api, handlers, reference, retention
from . import repository as repo
from .accounts import AccountInvalid, Accounts
from .clients import KioskClient
from .commands import USER_COMMAND
from .pages import admin, booths, cases, control, disputes, session, workbench
from .pages import records as record_views
from .pages import reference as reference_views
from .pages.base import Web
from .service import Dashboard
from .settings import DashboardSettings
from .wiring import build_accounts, build_dashboard

log = logging.getLogger(__name__)

# Expired sessions go, and a day's failed logins are forgotten.
HOUSEKEEPING_S = 600
DEMO_FLAG = "demo_accounts"
DEMO_STAFF = (("admin", "admin"), ("control", "controller"))


def demo_password(login: str) -> str:
    """Known passwords for the development demo only (production never seeds accounts)."""
    return f"dialog-{login}"


async def seed_demo(ctx: Context, dashboard: Dashboard, accounts: Accounts) -> None:
    """First start in development: staff accounts, then one per official once routing answers."""
    if await repo.get_flag(ctx.db, name=DEMO_FLAG):
        return
    if await repo.count_accounts(ctx.db) == 0:
        for login, role in DEMO_STAFF:
            with contextlib.suppress(AccountInvalid):
                await accounts.add(
                    login=login, role=role, official_id=None, password=demo_password(login)
                )
    for _ in range(120):
        try:
            officials = await dashboard.routing.officials(active_only=False)
            break
        except Exception:
            await asyncio.sleep(1.0)
    else:
        log.warning("demo accounts for officials not created: routing did not answer")
        return
    lines = [f"  {login:<18} {demo_password(login)}  ({role})" for login, role in DEMO_STAFF]
    for official in officials:
        login = official["id"]
        with contextlib.suppress(AccountInvalid):
            await accounts.add(
                login=login, role="official", official_id=login, password=demo_password(login)
            )
        lines.append(f"  {login:<18} {demo_password(login)}  (official)")
    await repo.set_flag(ctx.db, name=DEMO_FLAG, at=ctx.clock())
    print("Demo dashboard accounts (development only):\n" + "\n".join(lines), file=sys.stderr)


async def build(ctx: Context) -> Running:
    settings = ctx.settings_of(DashboardSettings)
    dashboard = build_dashboard(ctx)
    accounts = build_accounts(ctx)
    web = Web.create(dashboard, accounts, settings, secure_cookies=not ctx.settings.is_development)
    kiosks = KioskClient(ctx.http, ctx.service_url("kiosk-gateway"), ctx.settings)
    dead_letters = open_dead_letters(ctx.settings, ctx.mongo)
    handlers.subscribe(ctx.bus, ctx.db)
    retention.subscribe(ctx.bus, ctx.db, ctx.outbox, ctx.clock)
    tasks: list[asyncio.Task[None]] = []

    async def housekeeping() -> None:
        await repo.delete_expired_sessions(ctx.db, now=ctx.clock())
        await accounts.lockout.forget(ctx.clock() - timedelta(days=1))

    cleaner = Periodic("dashboard-housekeeping", housekeeping, interval_s=HOUSEKEEPING_S)

    async def start() -> None:
        await repo.create_indexes(ctx.db)
        await accounts.lockout.create_indexes()
        await repo.create_read_model_indexes(ctx.db)
        cleaner.start()
        if ctx.settings.is_development:
            await reference.seed_demo(dashboard)
            # routing answers only once this process serves; seeding waits for it meanwhile.
            tasks.append(
                asyncio.create_task(seed_demo(ctx, dashboard, accounts), name="dashboard-demo")
            )

    async def stop() -> None:
        await cleaner.stop()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await dead_letters.close()

    return Running(
        routers=[
            session.build_router(web),
            cases.build_router(web),
            workbench.build_router(web),
            control.build_router(web, kiosks),
            disputes.build_router(web),
            record_views.build_router(web),
            admin.build_router(web, kiosks, dead_letters),
            booths.build_router(web),
            reference_views.build_router(web),
            api.build_router(dashboard),
        ],
        on_start=[start],
        on_stop=[stop],
        uses_outbox=True,
    )


component = Component(
    name="dashboard",
    description="the officials' web app: inbox, playback, answers, control office, admin",
    build=build,
    commands=(USER_COMMAND,),
    settings=DashboardSettings,
    calls=("routing", "media-store", "kiosk-gateway", "notifier"),
)
