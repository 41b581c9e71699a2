from __future__ import annotations

from datetime import time
from typing import Literal

from pydantic import AnyHttpUrl, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotifierSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DIALOG_NOTIFIER_", extra="ignore")

    smsc_url: AnyHttpUrl | None = Field(
        default=None,
        description="SMSC HTTP API base, e.g. https://smsc.kz; unset: SMS are recorded, not sent",
    )
    smsc_login: str = Field(
        default="", description="SMSC login (or leave empty and use the API key)"
    )
    smsc_password: SecretStr = Field(default=SecretStr(""), description="SMSC password")
    smsc_apikey: SecretStr = Field(default=SecretStr(""), description="SMSC API key")
    sender: str = Field(default="", max_length=11, description="SMS sender name registered at SMSC")
    dashboard_url: str = Field(
        default="", description="officials' dashboard address put in their SMS; unset: public URL"
    )
    tracking_url: str = Field(
        default="", description="tracking page address put in citizens' SMS; unset: public URL"
    )
    operator_phone: str = Field(
        default="", description="the center operator on duty, told of failed receipts (E.164)"
    )
    operator_phones: dict[str, str] = Field(
        default_factory=dict,
        description="per center, JSON {center: phone}, told of their booths' health; a center "
        "not named here: the operator phone",
    )
    operator_language: Literal["kk", "ru"] = Field(
        default="ru", description="language of the operator's alerts"
    )
    notify_citizen_on_record: bool = Field(
        default=True, description="send the citizen a copy of the receipt's essentials"
    )
    quiet_start: time = Field(default=time(21, 0), description="officials' quiet hours start")
    quiet_end: time = Field(default=time(8, 0), description="officials' quiet hours end")
