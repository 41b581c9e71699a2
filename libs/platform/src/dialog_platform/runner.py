"""The runner: one program, many roles (like Loki's -target).

`--target all` runs every component in one process on one port with embedded backends unless
backend URLs are set; `--target NAME[,NAME]` runs the named components only. Shared
infrastructure (bus, documents, media) is built here once and handed to the components.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import entry_points
from typing import Any

import httpx
from fastapi import FastAPI
from pymongo import AsyncMongoClient

from dialog_contracts import Envelope

from .bus import Bus, create_bus
from .clock import make_clock
from .component import Component, Context, Running
from .documents import EmbeddedMongo, connect
from .errors import install_error_handlers
from .health import health_router
from .media import MediaStore, create_media
from .settings import CommonSettings

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "dialog.components"
SERVICE_URL_SETTINGS = {
    "routing": "routing_url",
    "media-store": "media_store_url",
    "dashboard": "dashboard_url",
    "kiosk-gateway": "kiosk_gateway_url",
    "notifier": "notifier_url",
}


def discover() -> dict[str, Component]:
    found: dict[str, Component] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        component = ep.load()
        if not isinstance(component, Component):
            raise TypeError(f"entry point {ep.name} is not a Component")
        found[component.name] = component
    return dict(sorted(found.items()))


def resolve_targets(spec: str, available: Iterable[str]) -> list[str]:
    names = list(available)
    if spec.strip() in ("", "all"):
        return names
    wanted = [t.strip() for t in spec.split(",") if t.strip()]
    unknown = [t for t in wanted if t not in names]
    if unknown:
        raise ValueError(f"unknown target(s) {', '.join(unknown)}; known: all, {', '.join(names)}")
    return wanted


@dataclass
class Backends:
    """The shared infrastructure of one process, opened and closed by the runner."""

    settings: CommonSettings
    need_db: bool
    need_media: bool
    embedded: EmbeddedMongo | None = None
    mongo: AsyncMongoClient[dict[str, Any]] | None = None
    bus: Bus | None = None
    media: MediaStore | None = None
    http: httpx.AsyncClient | None = None
    extra_stops: list[Any] = field(default_factory=list)

    def open_documents(self) -> None:
        if not self.need_db:
            return
        if self.settings.mongo_url is not None:
            url = self.settings.mongo_url.get_secret_value()
        else:
            data_dir = self.settings.data_dir.resolve()
            data_dir.mkdir(parents=True, exist_ok=True)
            running = EmbeddedMongo.running(data_dir)
            if running is None:
                self.embedded = EmbeddedMongo(data_dir=data_dir)
                self.embedded.start()
                running = self.embedded
            url = running.url
        self.mongo = connect(url)

    async def dead_letter(self, envelope: Envelope, consumer: str, reason: str) -> None:
        """In-process bus: keep a poison message where an operator can see it, like a DLQ."""
        log.error(
            "message dead-lettered",
            extra={
                "consumer": consumer,
                "type": envelope.type,
                "event_id": envelope.id,
                "reason": reason,
            },
        )
        if self.mongo is not None:
            db = self.mongo[f"{self.settings.db_prefix}_bus"]
            await db["dead_letters"].update_one(
                {"_id": f"{consumer}:{envelope.id}"},
                {
                    "$set": {
                        "consumer": consumer,
                        "reason": reason,
                        "envelope": envelope.model_dump(mode="json"),
                        "at": datetime.now(UTC),
                    }
                },
                upsert=True,
            )

    def open(self) -> None:
        self.open_documents()
        self.bus = create_bus(self.settings, dead_letter=self.dead_letter)
        if self.need_media:
            self.media = create_media(self.settings)
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=5.0))

    async def close(self) -> None:
        if self.http is not None:
            await self.http.aclose()
        if self.bus is not None:
            await self.bus.close()
        if self.media is not None:
            await self.media.close()
        if self.mongo is not None:
            await self.mongo.close()
        if self.embedded is not None:
            self.embedded.stop()


def base_urls(settings: CommonSettings, targets: list[str], self_url: str) -> dict[str, str]:
    urls: dict[str, str] = {}
    for service, setting in SERVICE_URL_SETTINGS.items():
        configured = getattr(settings, setting)
        if configured is not None:
            urls[service] = str(configured).rstrip("/")
        elif service in targets:
            urls[service] = self_url
    return urls


def build_app(
    settings: CommonSettings,
    targets: list[str],
    *,
    self_url: str,
    components: dict[str, Component] | None = None,
) -> FastAPI:
    """The FastAPI app that serves the selected components; backends open in its lifespan."""
    components = components or discover()
    selected = [components[t] for t in targets]
    backends = Backends(
        settings=settings,
        need_db=any(c.needs_db for c in selected),
        need_media=any(c.needs_media for c in selected),
    )
    backends.open()
    assert backends.bus is not None and backends.http is not None
    urls = base_urls(settings, targets, self_url)
    clock = make_clock(settings)
    contexts: list[Context] = []
    running: list[Running] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        assert backends.bus is not None
        try:
            for component in selected:
                ctx = Context(
                    name=component.name,
                    settings=settings,
                    bus=backends.bus,
                    mongo=backends.mongo if component.needs_db else None,
                    media=backends.media if component.needs_media else None,
                    http=backends.http,  # type: ignore[arg-type]
                    base_urls=urls,
                    public_url=str(settings.public_url or self_url).rstrip("/"),
                    clock=clock,
                )
                contexts.append(ctx)
            # Build every component (which subscribes its handlers) before the bus starts.
            for component, ctx in zip(selected, contexts, strict=True):
                built = await component.build(ctx)
                running.append(built)
                for router in built.routers:
                    app.include_router(router)
            if backends.media is not None:
                await backends.media.start()
            await backends.bus.start()
            for built in running:
                for hook in built.on_start:
                    await hook()
            for ctx, built in zip(contexts, running, strict=True):
                if built.uses_outbox:
                    await ctx.outbox.create_indexes()
                    ctx.outbox.start()
            log.info("dialog started", extra={"targets": targets})
            yield
        finally:
            for ctx, built in zip(contexts, running, strict=False):
                if built.uses_outbox:
                    await ctx.outbox.stop()
            for built in reversed(running):
                for hook in built.on_stop:
                    with contextlib.suppress(Exception):
                        await hook()
            await backends.close()

    app = FastAPI(
        title="Dialog", lifespan=lifespan, docs_url="/api/docs", openapi_url="/api/openapi.json"
    )
    app.state.settings = settings
    install_error_handlers(app)
    checks: dict[str, Any] = {"bus": backends.bus.ping}
    if backends.mongo is not None:
        mongo = backends.mongo

        async def mongo_ping() -> bool:
            await mongo.admin.command("ping")
            return True

        checks["documents"] = mongo_ping
    if backends.media is not None:
        checks["media"] = backends.media.ping

    async def component_checks() -> bool:
        for built in running:
            for check in built.checks.values():
                if not await check():
                    return False
        return len(running) == len(selected)

    checks["components"] = component_checks
    app.include_router(health_router(checks, targets))
    return app
