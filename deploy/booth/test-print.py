"""Print a sample receipt on the booth's printer, through printer-agent's own rendering and driver.

    sudo /opt/dialog/venv/bin/python deploy/booth/test-print.py            # the configured printer
    /opt/dialog/venv/bin/python deploy/booth/test-print.py --printer png:///tmp/receipts

The printer comes from --printer, else from DIALOG_PRINTER_AGENT_PRINTER_URL in the environment
or in /etc/dialog/printer-agent.env (readable by root only). The receipt says it is a sample in
both languages; its number and code are not an appeal's.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from dialog_contracts import ReceiptRequested
from dialog_contracts.common import Localized
from printer_agent.printers import PrinterError, print_receipt
from printer_agent.receipt import render_receipt

ENV_FILE = Path("/etc/dialog/printer-agent.env")
SAMPLE = Localized(kk="ҮЛГІ — өтініш емес", ru="ОБРАЗЕЦ — не обращение")


def configured(name: str) -> str | None:
    if os.environ.get(name):
        return os.environ[name]
    try:
        lines = ENV_FILE.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() == name:
            return value.strip()
    return None


def sample(kiosk_id: str) -> ReceiptRequested:
    return ReceiptRequested(
        appeal_id="test-print",
        kiosk_id=kiosk_id,
        copy_number=1,
        registration_number="0000-000000-0",
        access_code="00000000",
        language="kk",
        category="question",
        recorded_at=datetime.now(UTC),
        control_date=date.today(),
        center=SAMPLE,
        official_name=Localized(kk="Принтерді тексеру", ru="Проверка принтера"),
        official_position=SAMPLE,
        tracking_url="https://dialog.example.kz/track",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--printer", help="usb://VID:PID, /dev/…, tcp://HOST:9100 or png://DIR")
    parser.add_argument("--width", type=int, help="paper width in dots (576: 80 mm, 384: 58 mm)")
    args = parser.parse_args(argv)
    url = args.printer or configured("DIALOG_PRINTER_AGENT_PRINTER_URL")
    if not url:
        print(
            "no printer: pass --printer or set DIALOG_PRINTER_AGENT_PRINTER_URL "
            "/ принтер көрсетілмеген / принтер не указан",
            file=sys.stderr,
        )
        return 2
    width = args.width or int(configured("DIALOG_PRINTER_AGENT_PAPER_WIDTH_PX") or 576)
    kiosk_id = configured("DIALOG_PRINTER_AGENT_KIOSK_ID") or "test"
    receipt = sample(kiosk_id)
    try:
        print_receipt(url, receipt, render_receipt(receipt, width=width))
    except PrinterError as exc:
        print(f"printing failed / басып шығару сәтсіз / печать не удалась: {exc}", file=sys.stderr)
        return 1
    print(f"printed a sample receipt on {url} / үлгі түбіртек басылды / образец напечатан")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
