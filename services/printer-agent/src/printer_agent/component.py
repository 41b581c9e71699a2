"""Declares printer-agent to the runner. It runs on the booth's computer: no central database."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from dialog_platform.component import Component, Context, Running
from dialog_platform.settings import get_service_settings

from . import handlers
from .service import ReceiptPrinter
from .settings import PrinterAgentSettings
from .status import StatusReporter

log = logging.getLogger(__name__)


async def build(ctx: Context) -> Running:
    settings = get_service_settings(PrinterAgentSettings)
    if settings.kiosk_id == "*" and ctx.settings.bus_url is not None:
        raise ValueError(
            "DIALOG_PRINTER_AGENT_KIOSK_ID must name this booth's kiosk on a shared broker "
            "(it prints that kiosk's receipts only)"
        )
    data_dir = ctx.settings.data_dir.resolve()
    url = settings.printer_url or f"png://{data_dir / 'receipts'}"
    printer = ReceiptPrinter(
        printer_url=url,
        width=settings.paper_width_px,
        data_dir=data_dir,
        font_dir=settings.font_dir,
    )
    reporter = StatusReporter(
        bus=ctx.bus,
        printer_url=url,
        kiosk_id=settings.kiosk_id,
        clock=ctx.clock,
        keepalive=timedelta(seconds=settings.status_keepalive_s),
    )
    handlers.subscribe(
        ctx.bus, printer, kiosk_id=settings.kiosk_id, clock=ctx.clock, reporter=reporter
    )
    tasks: list[asyncio.Task[None]] = []

    async def poll_status() -> None:
        while True:
            try:
                await reporter.poll()
            except Exception:
                log.exception("reading the printer's state failed; retrying at the next poll")
            await asyncio.sleep(settings.status_interval_s)

    async def start() -> None:
        tasks.append(asyncio.create_task(poll_status(), name="printer-agent-status"))

    async def stop() -> None:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return Running(on_start=[start], on_stop=[stop])


component = Component(
    name="printer-agent",
    description="prints receipts on the booth's ESC/POS printer",
    build=build,
    needs_db=False,
    settings=PrinterAgentSettings,
)
