from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PrinterAgentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DIALOG_PRINTER_AGENT_", extra="ignore")

    kiosk_id: str = Field(
        default="*",
        pattern=r"^(\*|[a-z0-9][a-z0-9-]{1,62})$",
        description="the booth this agent prints for; `*` (every booth) only in one process",
    )
    printer_url: str | None = Field(
        default=None,
        description="usb://VID:PID, tcp://HOST:PORT, /dev/usb/lp0 or png://DIR; "
        "unset: png://<data dir>/receipts",
    )
    paper_width_px: int = Field(default=576, description="576 for 80 mm paper, 384 for 58 mm")
    font_dir: Path | None = Field(default=None, description="folder with DejaVuSans.ttf")
    status_interval_s: float = Field(
        default=30.0, gt=0, description="how often the printer's state is read between receipts"
    )
    status_keepalive_s: float = Field(
        default=300.0, gt=0, description="an unchanged printer state is reported again this often"
    )
