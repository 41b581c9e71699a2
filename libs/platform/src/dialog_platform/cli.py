"""`dialog`: one command for every role of the system."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError

from .clock import make_clock
from .component import Component, Context
from .logging import configure_logging
from .runner import Backends, base_urls, build_app, discover, resolve_targets
from .settings import CommonSettings


def _settings(args: argparse.Namespace) -> CommonSettings:
    overrides: dict[str, Any] = {}
    for name in ("data_dir", "host", "port"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    return CommonSettings(**overrides)


def _cmd_run(args: argparse.Namespace, components: dict[str, Component]) -> int:
    import uvicorn

    settings = _settings(args)
    targets = resolve_targets(args.target, components)
    configure_logging("dialog" if len(targets) > 1 else targets[0], settings.log_level)
    self_host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    app = build_app(
        settings, targets, self_url=f"http://{self_host}:{settings.port}", components=components
    )
    base = f"http://{self_host}:{settings.port}"
    print(f"Dialog ({', '.join(targets)}) starting on {base}", file=sys.stderr)
    if "kiosk-gateway" in targets:
        print(f"  booth API:  {base}/api/v1  (interactive docs: {base}/api/docs)", file=sys.stderr)
    if "dashboard" in targets:
        print(f"  dashboard:  {base}/dashboard/", file=sys.stderr)
    print(f"  health:     {base}/readyz", file=sys.stderr)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    server = uvicorn.Server(config)
    server.run()
    return 0 if server.started else 1


def _cmd_list_targets(args: argparse.Namespace, components: dict[str, Component]) -> int:
    print("all")
    for name, component in components.items():
        print(f"{name}\t{component.description}")
    return 0


def _cmd_healthcheck(args: argparse.Namespace, components: dict[str, Component]) -> int:
    settings = _settings(args)
    url = args.url or f"http://127.0.0.1:{settings.port}/readyz"
    try:
        response = httpx.get(url, timeout=5.0)
    except httpx.HTTPError as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    print(response.text)
    return 0 if response.status_code == 200 else 1


async def _run_component_command(
    component: Component, args: argparse.Namespace, settings: CommonSettings
) -> int:
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
            # Commands work on the database and bus; URLs point where `dialog run` would serve.
            base_urls=base_urls(settings, list(discover()), f"http://127.0.0.1:{settings.port}"),
            public_url=str(settings.public_url or f"http://127.0.0.1:{settings.port}").rstrip("/"),
            clock=make_clock(settings),
        )
        command = next(c for c in component.commands if c.name == args.command)
        return await command.run(ctx, args)
    finally:
        await backends.close()


def build_parser(components: dict[str, Component]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dialog", description="Dialog: video appeals to officials"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--data-dir", type=Path, help="data directory (default: $DIALOG_DATA_DIR or ./data)"
        )

    run = sub.add_parser("run", help="serve the selected components")
    run.add_argument(
        "--target",
        default=os.environ.get("DIALOG_TARGET", "all"),
        help="all, or a comma-separated list of components",
    )
    run.add_argument("--host", help="listen address (default 127.0.0.1)")
    run.add_argument("--port", type=int, help="listen port (default 8080)")
    common(run)
    run.set_defaults(func=_cmd_run)

    lt = sub.add_parser("list-targets", help="list the components `run --target` accepts")
    lt.set_defaults(func=_cmd_list_targets)

    hc = sub.add_parser("healthcheck", help="exit 0 when /readyz answers 200")
    hc.add_argument("--url", help="readiness URL (default http://127.0.0.1:$DIALOG_PORT/readyz)")
    hc.add_argument("--port", type=int)
    hc.set_defaults(func=_cmd_healthcheck)

    for component in components.values():
        for command in component.commands:
            p = sub.add_parser(command.name, help=command.help)
            common(p)
            command.configure(p)
            p.set_defaults(component=component)
    return parser


def main(argv: list[str] | None = None) -> int:
    components = discover()
    parser = build_parser(components)
    args = parser.parse_args(argv)
    try:
        if hasattr(args, "func"):
            return int(args.func(args, components))
        settings = _settings(args)
        configure_logging(args.component.name, "WARNING")
        return asyncio.run(_run_component_command(args.component, args, settings))
    except ValidationError as exc:
        print(f"dialog: invalid settings:\n{exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"dialog: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
