"""The runner: one program, many roles (like Loki's -target).

`--target all` runs every component in one process on one port with embedded backends unless
backend URLs are set; `--target NAME[,NAME]` runs the named components only. Shared
infrastructure (bus, documents, media) is built here once and handed to the components.

The runner also looks after what it starts: the embedded server is restarted when it dies, and
shutdown finishes within a bound whatever a backend is doing, so an init system's SIGTERM is
obeyed before its grace period runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI
from pymongo import AsyncMongoClient

from dialog_contracts import Envelope

from .bus import Bus, create_bus
from .bus.deadletters import StoredDeadLetters, dlq_gauge
from .clock import make_clock
from .component import Component, Context, Running
from .documents import connect
from .embedded import EmbeddedMongo, EmbeddedSupervisor, local_server
from .errors import DialogApp, install_error_handlers
from .hardening import BODY_LIMIT, install_hardening
from .health import health_router
from .media import MediaStore, create_media
from .memory import release_free_memory
from .metrics import install_metrics, process_service, readiness_gauge
from .periodic import Periodic
from .settings import CommonSettings
from .targets import ENTRY_POINT_GROUP, component_names
from .tracing import configure_tracing, instrument_app

log = logging.getLogger(__name__)


# Open requests get this long after SIGTERM; then the lifespan's shutdown gets its own budget,
# each step bounded, so the process is gone within a container's stop grace period (8 s here).
SHUTDOWN_GRACE_S = 3
SHUTDOWN_BUDGET_S = 4.0
CLOSE_BUDGET_S = 3.0
# One process of every component: what a burst freed inside malloc's heaps (receipts' canvases,
# pages of PyMongo's replies) is handed back this often, so its resident memory follows its use.
TRIM_EVERY_S = 30.0
# Every shutdown step gets at least this long, even once the budget is spent.
MIN_STEP_S = 0.2


def load_components(names: Iterable[str]) -> dict[str, Component]:
    """Import the named components only (an entry point is named like its component)."""
    available = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    found: dict[str, Component] = {}
    for name in names:
        if name not in available:
            raise ValueError(f"no component {name!r} is installed")
        component = available[name].load()
        if not isinstance(component, Component):
            raise TypeError(f"entry point {name} is not a Component")
        if component.name != name:
            raise TypeError(f"entry point {name} declares component {component.name!r}")
        found[name] = component
    return dict(sorted(found.items()))


def discover() -> dict[str, Component]:
    return load_components(component_names())


async def bounded(step: str, awaitable: Awaitable[Any], deadline: float, cap_s: float) -> None:
    """Await one shutdown step for at most `cap_s` (and the time left); never raise.

    A step that overruns is cancelled and left behind rather than awaited: one backend that
    hangs must not keep the process from exiting.
    """
    timeout = max(MIN_STEP_S, min(cap_s, deadline - time.monotonic()))
    task = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({task}, timeout=timeout)
    if not done:
        task.cancel()
        log.warning(
            "shutdown step overran; going on", extra={"step": step, "timeout_s": round(timeout, 2)}
        )
    elif not task.cancelled() and task.exception() is not None:
        log.warning(
            "shutdown step failed; going on", extra={"step": step, "error": repr(task.exception())}
        )


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
    supervisor: EmbeddedSupervisor | None = None

    def open_documents(self) -> None:
        if not self.need_db:
            return
        if self.settings.mongo_url is not None:
            url = self.settings.mongo_url.get_secret_value()
        elif self.embedded is not None:
            self.embedded.wait_started()  # spawned early by `dialog run`
            url = self.embedded.url
        else:
            server = local_server(self.settings)
            if isinstance(server, str):
                url = server
            else:
                server.start()
                self.embedded, url = server, server.url
        self.mongo = connect(url)

    def _stored_dead_letters(self) -> StoredDeadLetters | None:
        if self.mongo is None:
            return None
        return StoredDeadLetters(
            self.mongo[f"{self.settings.db_prefix}_bus"], self.settings.bus_namespace
        )

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
        store = self._stored_dead_letters()
        if store is not None:
            await store.record(envelope, consumer, reason, self.settings.bus_max_attempts)

    async def replays(self) -> list[tuple[str, Envelope]]:
        """Dead letters `dialog dlq replay` asked for, claimed once, for the in-process bus."""
        store = self._stored_dead_letters()
        return [] if store is None else await store.take_replays()

    def open(self) -> None:
        self.open_documents()
        self.bus = create_bus(self.settings, dead_letter=self.dead_letter, replays=self.replays)
        if self.need_media:
            self.media = create_media(self.settings)
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=5.0))

    def supervise(self) -> None:
        """Restart the embedded server this process started whenever it dies (needs the loop)."""
        if self.embedded is not None and self.supervisor is None:
            self.supervisor = EmbeddedSupervisor(self.embedded)
            self.supervisor.start()

    async def alive(self) -> bool:
        return self.supervisor is None or self.supervisor.alive()

    async def close(self, deadline: float | None = None) -> None:
        if deadline is None:
            deadline = time.monotonic() + CLOSE_BUDGET_S
        # First, so that the server stopped below is not started again.
        if self.supervisor is not None:
            await bounded("supervisor", self.supervisor.stop(), deadline, 1.0)
        if self.http is not None:
            await bounded("http", self.http.aclose(), deadline, 1.0)
        if self.bus is not None:
            await bounded("bus", self.bus.close(), deadline, 2.0)
        if self.media is not None:
            await bounded("media", self.media.close(), deadline, 1.0)
        if self.mongo is not None:
            await bounded("documents", self.mongo.close(), deadline, 1.0)
        if self.embedded is not None:
            # Killed once the grace is over: the files are safe (see EmbeddedMongo).
            grace = max(MIN_STEP_S, min(2.0, deadline - time.monotonic()))
            await self.embedded.stop_async(grace_s=grace)


def url_setting(service: str) -> str:
    """`kiosk-gateway` -> `DIALOG_KIOSK_GATEWAY_URL`: derived, so a new service needs no field."""
    return f"DIALOG_{service.upper().replace('-', '_')}_URL"


def base_urls(
    services: Iterable[str],
    targets: Iterable[str],
    self_url: str,
    environ: Mapping[str, str] = os.environ,
) -> dict[str, str]:
    """Each service's base URL: its `DIALOG_<NAME>_URL`, or this process's when it runs it."""
    served = set(targets)
    urls: dict[str, str] = {}
    for service in services:
        configured = environ.get(url_setting(service), "").strip()
        if configured:
            parsed = urlsplit(configured)
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                raise ValueError(f"{url_setting(service)} is not an http(s) URL: {configured!r}")
            urls[service] = configured.rstrip("/")
        elif service in served:
            urls[service] = self_url
    return urls


def check_calls(selected: Iterable[Component], urls: Mapping[str, str]) -> None:
    """One clear message, at start, for every service a target calls but cannot reach."""
    missing = [
        f"{component.name} calls {callee}: set {url_setting(callee)} "
        f"(or run both in one process: --target {component.name},{callee})"
        for component in selected
        for callee in component.calls
        if callee not in urls
    ]
    if missing:
        raise ValueError("no address for a service:\n  " + "\n  ".join(missing))


def build_app(
    settings: CommonSettings,
    targets: list[str],
    *,
    self_url: str,
    components: dict[str, Component] | None = None,
    embedded: EmbeddedMongo | None = None,
) -> FastAPI:
    """The FastAPI app that serves the selected components; backends open in its lifespan.

    `embedded`: the embedded server, already spawned (`embedded.spawn_early`).
    """
    components = components or discover()
    selected = [components[t] for t in targets]
    urls = base_urls(component_names(), targets, self_url)
    check_calls(selected, urls)
    # Each component's own settings, read once here: a bad value stops the start, not a request.
    own_settings = {c.name: c.settings() if c.settings else None for c in selected}
    # Before the backends' clients are made, so that httpx and PyMongo are traced.
    configure_tracing(process_service(targets))
    need_db = any(c.needs_db for c in selected)
    if embedded is not None and not need_db:
        embedded.stop()
        embedded = None
    backends = Backends(
        settings=settings,
        need_db=need_db,
        need_media=any(c.needs_media for c in selected),
        embedded=embedded,
    )
    backends.open()
    assert backends.bus is not None and backends.http is not None
    clock = make_clock(settings)
    contexts: list[Context] = []
    running: list[Running] = []

    async def trim() -> None:
        await asyncio.to_thread(release_free_memory)

    trimmer = Periodic("memory-trim", trim, interval_s=TRIM_EVERY_S)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        assert backends.bus is not None
        backends.supervise()
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
                    own_settings=own_settings[component.name],
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
            if len(selected) > 1:
                trimmer.start()
            yield
        finally:
            await trimmer.stop()
            deadline = time.monotonic() + SHUTDOWN_BUDGET_S
            relays = [
                ctx.outbox.stop()
                for ctx, built in zip(contexts, running, strict=False)
                if built.uses_outbox
            ]
            if relays:
                await bounded("outbox", asyncio.gather(*relays), deadline, 1.5)
            for component, built in reversed(list(zip(selected, running, strict=False))):
                for hook in built.on_stop:
                    await bounded(f"{component.name} on_stop", hook(), deadline, 1.0)
            await backends.close(deadline)

    app = DialogApp(
        title="Dialog",
        lifespan=lifespan,
        # The interactive docs are hardening's: outside production only, from packaged files.
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        max_body_size=BODY_LIMIT,
    )
    app.state.settings = settings
    install_error_handlers(app)
    install_hardening(app, settings)
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
    app.include_router(health_router(checks, targets, liveness={"process": backends.alive}))
    if settings.metrics:
        dlq = dlq_gauge(settings, backends.mongo, targets)
        install_metrics(app, targets, dlq, readiness_gauge(checks, targets))
    instrument_app(app)
    return app
