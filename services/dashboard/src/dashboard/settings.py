from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DashboardSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DIALOG_DASHBOARD_", extra="ignore")

    session_ttl_s: int = Field(
        default=8 * 3600, ge=60, description="an officials' session ends after this long idle"
    )
    login_failures: int = Field(
        default=5, ge=1, description="wrong passwords for one login before it is locked a while"
    )
    login_lock_s: int = Field(
        default=900, ge=1, description="window of those failures and length of the lock"
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
