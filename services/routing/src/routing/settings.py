from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RoutingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DIALOG_ROUTING_", extra="ignore")

    seed_file: Path | None = Field(
        default=None,
        description="officials to load into an empty directory; unset: the fictional demo set "
        "(development only)",
    )
    reminder_lead_working_days: int = Field(
        default=3,
        ge=0,
        le=15,
        description="DeadlineApproaching is sent this many working days before the control date",
    )
    follow_up_working_days: int = Field(
        default=10,
        ge=1,
        le=30,
        description='a new answer asked for after a "did not help" is due this many working '
        "days later",
    )
    timer_interval_s: float = Field(
        default=60.0, gt=0, le=3600, description="how often the deadline timers are checked"
    )
    retention_video_days: int = Field(
        default=1826,
        ge=1,
        description="videos of the appeal and the answer are deleted this many days after the "
        "case is closed (5 years; the records office sets the real period)",
    )
    retention_personal_days: int = Field(
        default=1826,
        ge=1,
        description="the citizen's name, IIN and phone are removed from every service this many "
        "days after the case is closed",
    )
    open_figures_interval_s: float = Field(
        default=600.0, gt=0, description="the open figures (/open) are computed at most this often"
    )
    retention_interval_s: float = Field(
        default=86400.0, gt=0, description="how often the storage periods are checked (daily)"
    )
