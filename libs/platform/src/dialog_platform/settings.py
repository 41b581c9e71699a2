"""Settings: one common set (prefix `DIALOG_`) and one prefixed set per service.

Built by the runner when a process starts, never at import time, so tests can set the
environment first; each component's own settings are handed to it in its context.
"""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEV_SECRET = "dev-only-insecure-secret-change-me"  # noqa: S105 - the known default we refuse

Environment = Literal["development", "production"]


class CommonSettings(BaseSettings):
    """Settings every process reads. An unset backend URL selects the embedded backend."""

    model_config = SettingsConfigDict(env_prefix="DIALOG_", extra="ignore")

    environment: Environment = Field(
        default="development",
        description="`production` refuses default secrets and skips the demo data",
    )
    data_dir: Path = Field(
        default=Path("data"), description="embedded database, local media, receipts"
    )
    bus_url: SecretStr | None = Field(
        default=None, description="amqp://user:pass@host:5672/vhost; unset: the in-process bus"
    )
    bus_namespace: str = Field(
        default="dialog", pattern=r"^[a-z0-9-]+$", description="prefix of exchange and queue names"
    )
    bus_prefetch: int = Field(
        default=16, ge=1, le=1000, description="unacked messages per consumer"
    )
    bus_max_attempts: int = Field(
        default=5, ge=1, le=50, description="handler attempts before the dead-letter queue"
    )
    bus_retry_first_delay_s: float = Field(
        default=1.0, gt=0, description="first retry delay; each next one is 4× longer"
    )
    mongo_url: SecretStr | None = Field(
        default=None, description="mongodb://…; unset: the embedded nx-27017 server"
    )
    db_prefix: str = Field(
        default="dialog", pattern=r"^[a-z0-9_]+$", description="databases are `<prefix>_<service>`"
    )
    media_url: SecretStr | None = Field(
        default=None,
        description="s3://ACCESS:SECRET@host:port/bucket?secure=false&region=…; unset: a folder",
    )
    secret_key: SecretStr = Field(
        default=SecretStr(DEV_SECRET), description="signs playback URLs and other tokens"
    )
    public_url: AnyHttpUrl | None = Field(
        default=None,
        description="the citizens' address (tracking page on the receipt); unset: this process",
    )
    # The other services' addresses are not fields: `DIALOG_<NAME>_URL` for each installed
    # component, read by the runner (`runner.base_urls`), so a new service adds no setting here.
    clock_offset_file: Path | None = Field(
        default=None,
        description="development only: a file holding seconds added to the clock (tests move time)",
    )
    metrics: bool = Field(
        default=True,
        description="count and serve `/metrics`; off only to measure what the counting costs",
    )
    host: str = Field(default="127.0.0.1", description="address `dialog run` listens on")
    port: int = Field(default=8080, ge=1, le=65535, description="port `dialog run` listens on")
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR")
    trusted_proxies: Annotated[list[IPv4Network | IPv6Network], NoDecode] = Field(
        default_factory=list,
        description="networks of the reverse proxies whose X-Forwarded-For is believed, "
        "comma-separated (e.g. the ingress controller's pod network); unset: none",
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        if isinstance(value, str):
            # A bare address is a network of one; host bits are forgiven (10.1.2.3/8).
            return [ip_network(v.strip(), strict=False) for v in value.split(",") if v.strip()]
        return value

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> CommonSettings:
        if self.environment != "development":
            if self.secret_key.get_secret_value() in (DEV_SECRET, ""):
                raise ValueError("DIALOG_SECRET_KEY must be set outside development")
            if len(self.secret_key.get_secret_value()) < 32:
                raise ValueError("DIALOG_SECRET_KEY must be at least 32 characters")
            if self.clock_offset_file is not None:
                raise ValueError("DIALOG_CLOCK_OFFSET_FILE is for development only")
            for name in ("bus_url", "mongo_url", "media_url"):
                value = getattr(self, name)
                if value is not None and "guest:guest@" in value.get_secret_value():
                    raise ValueError(f"DIALOG_{name.upper()} uses a default password")
        return self

    @property
    def is_development(self) -> bool:
        return self.environment == "development"


@lru_cache
def get_settings() -> CommonSettings:
    return CommonSettings()
