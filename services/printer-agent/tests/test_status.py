"""The printer's state, reported between receipts: on a change and as a keep-alive only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from dialog_contracts import Envelope, PrinterStatusReported
from dialog_platform.bus.inprocess import InProcessBus
from printer_agent.printers import PAPER_SENSOR_FILE, PrinterError, open_printer, printer_state
from printer_agent.status import StatusReporter

from .test_printers import NetworkPrinter


def test_png_stand_in_reports_paper_the_way_a_printer_answers_dle_eot_4(tmp_path: Path) -> None:
    url = f"png://{tmp_path}"
    assert printer_state(url)[0] == "ready"
    (tmp_path / PAPER_SENSOR_FILE).write_text("0x1E")
    assert printer_state(url)[0] == "paper_near_end"
    (tmp_path / PAPER_SENSOR_FILE).write_text("0x7E")
    state, detail = printer_state(url)
    assert (state, "out of paper" in detail) == ("out_of_paper", True)
    from PIL import Image

    try:
        with open_printer(url) as printer:
            printer.print_image(Image.new("1", (576, 40), 1), name="x")
    except PrinterError as exc:
        assert "out of paper" in exc.reason
    else:
        raise AssertionError("printed with no paper")
    assert not list(tmp_path.glob("*.png"))


def test_tcp_printer_states_from_its_status_bytes() -> None:
    cases = {
        "ready": {1: 0x16, 4: 0x12},
        "paper_near_end": {1: 0x16, 4: 0x1E},
        "out_of_paper": {1: 0x16, 4: 0x72},
        "cover_open": {1: 0x1E, 2: 0x16, 4: 0x12},
        "unknown": None,
    }
    for expected, status in cases.items():
        printer = NetworkPrinter(status)
        try:
            assert printer_state(printer.url)[0] == expected, status
        finally:
            printer.close()


def test_unreachable_printer_is_offline() -> None:
    from dialog_platform.net import free_port

    state, detail = printer_state(f"tcp://127.0.0.1:{free_port()}")
    assert state == "offline" and "unreachable" in detail


async def test_reported_on_change_and_as_keep_alive_only(tmp_path: Path) -> None:
    bus = InProcessBus()
    heard: list[PrinterStatusReported] = []

    async def on_status(envelope: Envelope) -> None:
        heard.append(envelope.parse(PrinterStatusReported))

    bus.subscribe("kiosk-gateway", PrinterStatusReported, on_status)
    await bus.start()
    now = [datetime(2026, 12, 3, 10, 0, tzinfo=UTC)]
    reporter = StatusReporter(
        bus=bus,
        printer_url=f"png://{tmp_path}",
        kiosk_id="booth-1",
        clock=lambda: now[0],
        keepalive=timedelta(minutes=5),
    )
    try:
        await reporter.poll()
        await reporter.poll()
        assert [e.state for e in heard] == ["ready"]
        (tmp_path / PAPER_SENSOR_FILE).write_text("0x7E")
        await reporter.poll()
        await reporter.poll()
        assert [e.state for e in heard] == ["ready", "out_of_paper"]
        now[0] += timedelta(minutes=5)
        await reporter.poll()
        assert [e.state for e in heard] == ["ready", "out_of_paper", "out_of_paper"]
        assert heard[-1].kiosk_id == "booth-1" and heard[-1].reported_at == now[0]
    finally:
        await bus.close()
