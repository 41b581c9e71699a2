from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DashboardSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DIALOG_DASHBOARD_", extra="ignore")

    session_ttl_s: int = Field(
        default=8 * 3600, ge=60, description="an officials' session ends after this long idle"
    )
    login_failures: int = Field(
        default=5,
        ge=1,
        description="wrong passwords for one login from one client before that client is locked "
        "out of it a while; past as many from all clients, each try at the login waits longer",
    )
    login_lock_s: int = Field(
        default=900, ge=1, description="window of those failures and length of the lock"
    )
    login_failures_per_day: int = Field(
        default=100,
        ge=1,
        description="wrong passwords for one login in a day, from all clients, after which each "
        "client gets one wrong try at it a day",
    )
    login_max_delay_s: float = Field(
        default=8.0, ge=0, description="the longest a try at an attacked login waits"
    )
    login_per_ip_per_minute: int = Field(
        default=30, ge=1, description="login attempts per client and minute"
    )
    due_soon_days: int = Field(
        default=3, ge=0, description="cases this close to the control date count as due soon"
    )
    inbox_poll_s: int = Field(
        default=5, ge=1, description="how often an open inbox asks for new cases"
    )
    max_answer_video_bytes: int = Field(
        default=200 * 1024 * 1024, ge=1024, description="largest video answer accepted"
    )
