from __future__ import annotations

import pytest
from pydantic import ValidationError

from dialog_platform.settings import DEV_SECRET, CommonSettings


def test_development_accepts_the_default_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIALOG_SECRET_KEY", raising=False)
    settings = CommonSettings(environment="development")
    assert settings.secret_key.get_secret_value() == DEV_SECRET
    assert settings.bus_url is None and settings.mongo_url is None and settings.media_url is None


def test_production_refuses_the_default_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIALOG_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="DIALOG_SECRET_KEY must be set"):
        CommonSettings(environment="production")


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        CommonSettings(environment="production", secret_key="short")


def test_production_refuses_guest_broker_password() -> None:
    with pytest.raises(ValidationError, match="default password"):
        CommonSettings(
            environment="production", secret_key="x" * 40, bus_url="amqp://guest:guest@rabbit:5672/"
        )


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALOG_ENVIRONMENT", "production")
    monkeypatch.setenv("DIALOG_SECRET_KEY", "s" * 48)
    monkeypatch.setenv("DIALOG_BUS_URL", "amqp://dialog:pw@rabbit:5672/")
    monkeypatch.setenv("DIALOG_PORT", "9000")
    settings = CommonSettings()
    assert settings.port == 9000
    assert settings.bus_url is not None
    # Secrets stay out of reprs and logs.
    assert "pw@" not in repr(settings) and "sss" not in repr(settings)
