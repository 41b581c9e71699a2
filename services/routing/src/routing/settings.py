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
