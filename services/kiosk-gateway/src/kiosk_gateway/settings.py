from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class KioskGatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DIALOG_KIOSK_GATEWAY_", extra="ignore")

    require_identity: bool = Field(
        default=True, description="ask the citizen's full name and IIN (APPC requires them)"
    )
    base_duration_s: int = Field(default=120, ge=10, description="recording length offered")
    extension_s: int = Field(default=120, ge=0, description="one-time extension of the recording")
    max_video_bytes: int = Field(
        default=200 * 1024 * 1024, ge=1024, description="largest accepted upload (413 past it)"
    )
    draft_ttl_s: int = Field(default=3600, ge=60, description="unsubmitted drafts expire after")
    lookup_per_ip_per_minute: int = Field(
        default=20, ge=1, description="answer look-ups per client address and minute"
    )
    lookup_per_kiosk_per_minute: int = Field(
        default=20, ge=1, description="answer look-ups and reprints per booth and minute"
    )
    lookup_failures_per_number: int = Field(
        default=5,
        ge=1,
        description="wrong codes for one number from one client before that client is locked "
        "out of it a while; past as many from all clients, each try at the number waits longer",
    )
    lookup_lock_s: int = Field(
        default=900, ge=1, description="how long such a client stays locked out of the number"
    )
    lookup_failures_per_day: int = Field(
        default=100,
        ge=1,
        description="wrong codes for one number in a day, from all clients, after which each "
        "client gets one wrong try at it a day",
    )
    lookup_max_delay_s: float = Field(
        default=8.0, ge=0, description="the longest a try at a guessed-at number waits"
    )
    reprints_per_hour: int = Field(
        default=3, ge=1, description="receipt reprints of one appeal per hour"
    )
    idle_s: float = Field(
        default=60.0, gt=0, description="booth screen: no touch this long asks 'still there?'"
    )
    idle_confirm_s: float = Field(
        default=20.0, gt=0, description="booth screen: then this long to answer before it resets"
    )
    receipt_screen_s: float = Field(
        default=60.0, gt=0, description="booth screen: how long the receipt screen stays"
    )
    heartbeat_s: float = Field(
        default=60.0, gt=0, description="booth screen: how often it reports camera and microphone"
    )
    kiosk_offline_after_s: float = Field(
        default=300.0,
        gt=0,
        description="a booth not heard from this long in opening hours is offline",
    )
    health_check_s: float = Field(
        default=30.0, gt=0, description="how often silent booths are looked for"
    )
    rating_window_days: int = Field(
        default=30,
        ge=1,
        description="the citizen may change the rating of an answer this many days after first "
        "giving it; then it is refused",
    )
    open_figures_interval_s: float = Field(
        default=600.0,
        gt=0,
        description="how often /open takes routing's figures (served from a copy)",
    )
    opening_from: time = Field(default=time(9, 0), description="centers open (Asia/Almaty)")
    opening_until: time = Field(default=time(20, 0), description="centers close (Asia/Almaty)")
    opening_days: Literal["working", "every"] = Field(
        default="working",
        description="`working`: days the Kazakhstan calendar works; `every`: every day",
    )

    speech_dir: Path | None = Field(
        default=None,
        description=(
            "booth's spoken prompts: espeak-ng renders in cache/, human recordings in "
            "recordings/<lang>/<clip>.wav replace them (default <data_dir>/speech)"
        ),
    )

    def speech_folder(self, data_dir: Path) -> Path:
        return self.speech_dir or data_dir / "speech"

    @property
    def max_duration_s(self) -> int:
        return self.base_duration_s + self.extension_s
