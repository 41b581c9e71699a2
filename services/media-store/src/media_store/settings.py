from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class MediaStoreSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DIALOG_MEDIA_STORE_", extra="ignore")

    max_bytes: int = Field(
        default=200 * 1024 * 1024, ge=1024, description="largest object accepted"
    )
    max_duration_s: float = Field(default=240.0, gt=0, description="longest video accepted")
    url_ttl_s: int = Field(
        default=900, ge=10, le=900, description="life of a playback URL (≤ 15 min)"
    )
    stale_upload_s: int = Field(
        default=3600, ge=60, description="an upload unfinished this long is removed"
    )
    video_lifecycle_days: int = Field(
        default=2191,
        ge=0,
        description=(
            "the S3 bucket's own rule deletes any video this many days after its upload, behind"
            " routing's retention job (storage period + the longest a case stays open; 0: no rule)"
        ),
    )
