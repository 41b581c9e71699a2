"""`dialog`: one command for every role of the system.

A container runs `dialog healthcheck` every few seconds and a restarted pod runs
`dialog run --target X` before it can serve, so both import only what they use: the built-in
commands load no component, `run` loads only the components it serves, and the framework
(uvicorn, FastAPI, PyMongo) is imported inside the command that needs it. Only a command a
component contributes (`dialog kiosk add`), or a request for the full help, loads every
component to find it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .component import Component
    from .settings import CommonSettings

Components = dict[str, "Component"]
T = TypeVar("T")
BUILTIN_COMMANDS = ("run", "list-targets", "healthcheck", "dlq", "retention")


def _settings(args: argparse.Namespace) -> CommonSettings:
    from .settings import CommonSettings

    overrides: dict[str, Any] = {}
    for name in ("data_dir", "host", "port"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    return CommonSettings(**overrides)


def _cmd_run(args: argparse.Namespace) -> int:
    from .embedded.server import spawn_early
    from .memory import PROCESS_THRESHOLD, few_heaps, map_large_buffers, skip_unusable_imports
    from .targets import component_names, resolve_targets

    few_heaps()  # before any thread is started
    skip_unusable_imports()
    settings = _settings(args)
    targets = resolve_targets(args.target, component_names())
    if len(targets) > 1:
        # One process on a small machine: its footprint matters more than the 4 ms each
        # hash pays for it; a service of its own keeps its (bounded) heap for speed.
        map_large_buffers(PROCESS_THRESHOLD)
    # Before the heavy imports below, which the server's own boot then overlaps.
    embedded = spawn_early(settings, targets)
    try:
        import uvicorn

        from .logging import configure_logging
        from .runner import SHUTDOWN_GRACE_S, build_app, load_components

        components = load_components(targets)
        configure_logging("dialog" if len(targets) > 1 else targets[0], settings.log_level)
        self_host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
        app = build_app(
            settings,
            targets,
            self_url=f"http://{self_host}:{settings.port}",
            components=components,
            embedded=embedded,
        )
    except BaseException:
        # The child is in a session of its own: it would outlive a start that failed.
        if embedded is not None:
            embedded.stop()
        raise
    base = f"http://{self_host}:{settings.port}"
    print(f"Dialog ({', '.join(targets)}) starting on {base}", file=sys.stderr)
    if "kiosk-gateway" in targets:
        print(f"  booth API:  {base}/api/v1  (interactive docs: {base}/api/docs)", file=sys.stderr)
    if "dashboard" in targets:
        print(f"  dashboard:  {base}/dashboard/", file=sys.stderr)
    print(f"  health:     {base}/readyz", file=sys.stderr)
    from .hardening import SERVER_OPTIONS

    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        # Open requests get this long; the lifespan's own shutdown is bounded in the runner,
        # so SIGTERM ends the process well within a container's stop grace period.
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
        # Header limits; the client's address is decided by the app, not by uvicorn.
        **SERVER_OPTIONS,
    )
    server = uvicorn.Server(config)
    server.run()
    return 0 if server.started else 1


def _cmd_list_targets(args: argparse.Namespace) -> int:
    from .runner import discover

    print("all")
    for name, component in discover().items():
        print(f"{name}\t{component.description}")
    return 0


def _cmd_healthcheck(args: argparse.Namespace) -> int:
    import httpx

    url = args.url
    if url is None:
        port = args.port
        env_port = os.environ.get("DIALOG_PORT", "")
        if port is None and env_port.isdigit():
            # The image sets DIALOG_PORT; reading it plainly spares each probe the settings'
            # import. Anything else (unset, malformed) goes through the settings' validation.
            port = int(env_port)
        url = f"http://127.0.0.1:{port or _settings(args).port}/readyz"
    try:
        response = httpx.get(url, timeout=5.0)
    except httpx.HTTPError as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    print(response.text)
    return 0 if response.status_code == 200 else 1


def _cmd_dlq(args: argparse.Namespace) -> int:
    from . import dlq

    return dlq.command(args)


def _cmd_retention(args: argparse.Namespace) -> int:
    from .logging import configure_logging
    from .runner import discover

    settings = _settings(args)
    configure_logging("retention", "WARNING")
    components = discover()
    deciders = [c for c in components.values() if c.retention]

    async def run_all() -> int:
        for component in deciders:
            lines = await _with_context(
                component,
                components,
                settings,
                lambda ctx, c=component: c.retention(ctx, args.dry_run),  # type: ignore[misc]
            )
            verb = "would destroy" if args.dry_run else "destroyed"
            print(f"{component.name}: {verb} {len(lines)} appeal file(s)")
            for line in lines:
                print(f"  {line}")
        return 0

    return asyncio.run(run_all())


async def _run_component_command(
    component: Component,
    components: Components,
    args: argparse.Namespace,
    settings: CommonSettings,
) -> int:
    command = next(c for c in component.commands if c.name == args.command)
    return await _with_context(component, components, settings, lambda ctx: command.run(ctx, args))


async def _with_context(
    component: Component,
    components: Components,
    settings: CommonSettings,
    fn: Callable[[Any], Awaitable[T]],
) -> T:
    """Run `fn` with `component`'s context, outside `dialog run`, among the installed
    `components` (as the runner loaded them)."""
    from .clock import make_clock
    from .component import Context
    from .runner import Backends, base_urls

    # Commands work on the database and bus; URLs point where `dialog run` would serve, as
    # if it served every installed component.
    local = f"http://127.0.0.1:{settings.port}"
    names = list(components)

    backends = Backends(
        settings=settings, need_db=component.needs_db, need_media=component.needs_media
    )
    backends.open()
    assert backends.bus is not None and backends.http is not None
    try:
        await backends.bus.start()
        ctx = Context(
            name=component.name,
            settings=settings,
            bus=backends.bus,
            mongo=backends.mongo,
            media=backends.media,
            http=backends.http,
            base_urls=base_urls(names, names, local),
            public_url=str(settings.public_url or local).rstrip("/"),
            clock=make_clock(settings),
            own_settings=component.settings() if component.settings else None,
        )
        return await fn(ctx)
    finally:
        await backends.close()


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir", type=Path, help="data directory (default: $DIALOG_DATA_DIR or ./data)"
    )


def build_parser(
    components: Components | None = None, *, only: str | None = None
) -> argparse.ArgumentParser:
    """The `dialog` parser with the built-in commands and the components' commands.

    `only` names the one built-in command about to run: only its arguments are configured, so
    listing the others imports nothing (`dlq` configures itself from its own module).
    """
    parser = argparse.ArgumentParser(
        prog="dialog", description="Dialog: video appeals to officials"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def wanted(name: str) -> bool:
        return only == name

    def builtin(name: str, help_: str, func: Callable[[argparse.Namespace], int]) -> Any:
        p = sub.add_parser(name, help=help_)
        p.set_defaults(func=func)
        return p

    run = builtin("run", "serve the selected components", _cmd_run)
    if wanted("run"):
        run.add_argument(
            "--target",
            default=os.environ.get("DIALOG_TARGET", "all"),
            help="all, or a comma-separated list of components",
        )
        run.add_argument("--host", help="listen address (default 127.0.0.1)")
        run.add_argument("--port", type=int, help="listen port (default 8080)")
        _common(run)

    builtin("list-targets", "list the components `run --target` accepts", _cmd_list_targets)

    hc = builtin("healthcheck", "exit 0 when /readyz answers 200", _cmd_healthcheck)
    if wanted("healthcheck"):
        hc.add_argument(
            "--url", help="readiness URL (default http://127.0.0.1:$DIALOG_PORT/readyz)"
        )
        hc.add_argument("--port", type=int)

    dlq = builtin("dlq", "dead-letter queues: list, show, replay, drop", _cmd_dlq)
    if wanted("dlq"):
        from . import dlq as dead_letters

        _common(dlq)
        dead_letters.configure(dlq)

    retention = builtin(
        "retention", "storage periods: destroy what is past them (or list it)", _cmd_retention
    )
    if wanted("retention"):
        actions = retention.add_subparsers(dest="action", required=True)
        run_now = actions.add_parser("run", help="apply the storage periods now")
        _common(run_now)
        run_now.add_argument(
            "--dry-run", action="store_true", help="list what would be destroyed, change nothing"
        )

    for component in (components or {}).values():
        for command in component.commands:
            p = sub.add_parser(command.name, help=command.help)
            _common(p)
            command.configure(p)
            p.set_defaults(component=component)
    return parser


def _first_command(argv: list[str]) -> str | None:
    for arg in argv:
        if not arg.startswith("-"):
            return arg
        if arg in ("-h", "--help"):
            return None
    return None


def _invalid_settings(exc: ValueError) -> bool:
    # Looked up, not imported: pydantic takes longer to import than a healthcheck's whole run,
    # and an error raised by it means it is loaded already.
    core = sys.modules.get("pydantic_core")
    return core is not None and isinstance(exc, core.ValidationError)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    first = _first_command(argv)
    components: Components = {}
    if first in BUILTIN_COMMANDS:
        parser = build_parser(only=first)
    else:
        from .runner import discover

        components = discover()
        parser = build_parser(components)
    args = parser.parse_args(argv)
    try:
        if hasattr(args, "func"):
            return int(args.func(args))
        from .logging import configure_logging

        settings = _settings(args)
        configure_logging(args.component.name, "WARNING")
        return asyncio.run(_run_component_command(args.component, components, args, settings))
    except ValueError as exc:
        if _invalid_settings(exc):
            print(f"dialog: invalid settings:\n{exc}", file=sys.stderr)
        else:
            print(f"dialog: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
