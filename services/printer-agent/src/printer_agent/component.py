"""Declares printer-agent to the runner. It runs on the booth's computer: no central database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from dialog_platform.component import Component, Context, Running
from dialog_platform.periodic import Periodic

from . import handlers
from .printers import load_escpos
from .service import ReceiptPrinter
from .settings import PrinterAgentSettings
from .status import StatusReporter


async def build(ctx: Context) -> Running:
    settings = ctx.settings_of(PrinterAgentSettings)
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
    # A failed read is logged and tried again at the next poll.
    poller = Periodic("printer-agent-status", reporter.poll, interval_s=settings.status_interval_s)

    async def start() -> None:
        poller.start()
        # Loaded off the event loop now, so the first receipt does not wait for python-escpos.
        asyncio.get_running_loop().run_in_executor(None, load_escpos, data_dir / "cache" / "escpos")

    return Running(on_start=[start], on_stop=[poller.stop])


component = Component(
    name="printer-agent",
    description="prints receipts on the booth's ESC/POS printer",
    build=build,
    needs_db=False,
    settings=PrinterAgentSettings,
)
