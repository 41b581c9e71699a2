"""What a service declares to the runner, and what the runner gives it.

A service package exposes a `Component` under the `dialog.components` entry point. The runner
builds each selected component with a `Context` (its settings, its own database, the bus, the
media port, an HTTP client for other services' APIs) and mounts what it returns in one app.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from fastapi import APIRouter
from pydantic_settings import BaseSettings
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from .bus import Bus
from .media import MediaStore
from .outbox import Outbox
from .settings import CommonSettings

S = TypeVar("S", bound=BaseSettings)
Check = Callable[[], Awaitable[bool]]
Hook = Callable[[], Awaitable[None]]
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    name: str
    settings: CommonSettings
    bus: Bus
    mongo: AsyncMongoClient[dict[str, Any]] | None
    media: MediaStore | None
    http: httpx.AsyncClient
    base_urls: dict[str, str]
    public_url: str = "http://127.0.0.1:8080"
    clock: Clock = utc_now
    # The component's own settings (`Component.settings`), built once by the runner.
    own_settings: BaseSettings | None = None
    _outbox: Outbox | None = None

    def settings_of(self, cls: type[S]) -> S:
        """This component's own settings, as the runner built them from the environment."""
        if not isinstance(self.own_settings, cls):
            raise RuntimeError(f"{self.name} was not given its {cls.__name__}")
        return self.own_settings

    @property
    def db(self) -> AsyncDatabase[dict[str, Any]]:
        """This component's own database; no other component reads it."""
        if self.mongo is None:
            raise RuntimeError(f"{self.name} was built without a database")
        from .documents import service_database

        return service_database(self.mongo, self.settings.db_prefix, self.name)

    @property
    def outbox(self) -> Outbox:
        if self._outbox is None:
            self._outbox = Outbox(self.db, self.bus, source=f"/dialog/{self.name}")
        return self._outbox

    def service_url(self, service: str) -> str:
        """Base URL of a service this component `calls` (this process when it runs it too).

        The runner refuses to start a component whose callees have no URL, so this is there.
        """
        return self.base_urls[service]

    def optional_url(self, service: str) -> str | None:
        """Base URL of a service this component `may_call`, None when it is not deployed."""
        return self.base_urls.get(service)


@dataclass
class Running:
    """What a built component contributes to the process."""

    routers: list[APIRouter] = field(default_factory=list)
    on_start: list[Hook] = field(default_factory=list)
    on_stop: list[Hook] = field(default_factory=list)
    checks: dict[str, Check] = field(default_factory=dict)
    uses_outbox: bool = False


@dataclass(frozen=True)
class Command:
    """A `dialog` subcommand a component contributes (e.g. `dialog kiosk add`)."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[Context, argparse.Namespace], Awaitable[int]]


@dataclass(frozen=True)
class Component:
    name: str
    build: Callable[[Context], Awaitable[Running]]
    description: str = ""
    needs_db: bool = True
    needs_media: bool = False
    # The services whose HTTP API it calls, by component name. Their URLs come from
    # `DIALOG_<NAME>_URL`, or are this process's when it runs them too; a target missing one
    # does not start. `may_call`: used when deployed, done without otherwise.
    calls: tuple[str, ...] = ()
    may_call: tuple[str, ...] = ()
    commands: tuple[Command, ...] = ()
    # Its own prefixed settings class: built by the runner and handed over in the context
    # (`ctx.settings_of`), listed in the settings reference.
    settings: type[BaseSettings] | None = None
    # `dialog retention run [--dry-run]`: apply (or list) what the storage periods destroy now;
    # returns one printable line per appeal. Only a component that decides expiry has one.
    retention: Callable[[Context, bool], Awaitable[list[str]]] | None = None
