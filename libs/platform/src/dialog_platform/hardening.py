"""What every process does to every request before a component sees it.

- A body limit (`BODY_LIMIT`) enforced while the body arrives: small for JSON and forms, larger
  only on the routes that set their own `max_body_size` (streamed videos, photos), 413 the
  moment it is passed, so no anonymous request can make a process hold more than the limit.
- Header limits: the server's own (`SERVER_OPTIONS`, given to uvicorn) and a count and size check
  here, for whatever server runs the app.
- `OPTIONS` and a 405's `Allow` name every method of a path.
- The client's address, taken from `X-Forwarded-For` only through the trusted proxies
  (`DIALOG_TRUSTED_PROXIES`): per-client limits then count citizens, not the ingress, and a
  header sent by anybody else is ignored.
- Security headers on every HTML page of every component (one policy: no inline script, no
  framing), and the interactive API docs outside production only, from packaged files.

`install_hardening(app, settings)` wires all of it; the runner calls it once per app.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Match

from .settings import CommonSettings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# JSON and form bodies of every route: the largest is far below this. Enforced while the body
# arrives by FastAPI's own limit (`FastAPI(max_body_size=...)`, 413 the moment it is passed); a
# route that takes more (a video, a photo, the dashboard's answer) sets its own `max_body_size`.
BODY_LIMIT = 64 * 1024
# Headers: browsers send ~30 and a few KB; proxies add a few more.
MAX_HEADERS = 100
MAX_HEADER_BYTES = 8 * 1024
MAX_HEAD_BYTES = 32 * 1024
# What uvicorn is told (cli.py): the whole request head is bounded before it is parsed, and the
# client address is decided here, not by uvicorn's own proxy handling (which trusts 127.0.0.1,
# i.e. every local process, including a forging one).
SERVER_OPTIONS: dict[str, Any] = {
    "h11_max_incomplete_event_size": MAX_HEAD_BYTES,
    "proxy_headers": False,
    # No component serves a WebSocket: an upgrade request is answered as plain HTTP, and the
    # websockets library (4 MB of every process) is not imported.
    "ws": "none",
}
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
HEADERS_TOO_LARGE = {
    "error": {
        "code": "headers_too_large",
        "message": {"kk": "Сұрау тақырыптары тым үлкен", "ru": "Заголовки запроса слишком большие"},
    }
}


class HeaderLimits:
    """431 for more headers, or a longer one, than any browser or proxy sends; whatever server
    runs the app (uvicorn bounds the whole head itself: `SERVER_OPTIONS`)."""

    def __init__(self, app: Asgi) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            if len(headers) > MAX_HEADERS or any(
                len(name) + len(value) > MAX_HEADER_BYTES for name, value in headers
            ):
                data = json.dumps(HEADERS_TOO_LARGE, ensure_ascii=False).encode("utf-8")
                await send(
                    {
                        "type": "http.response.start",
                        "status": 431,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(data)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": data})
                return
        await self.app(scope, receive, send)


class AllowedMethods:
    """`OPTIONS` answers, and a 405's `Allow` names, every method of the path, not only those
    of the first route that matched it (a path's methods are often separate routes)."""

    def __init__(self, app: Asgi, routes: Callable[[], Sequence[Any]]) -> None:
        self.app = app
        self.routes = routes

    def allowed(self, scope: Scope) -> list[str]:
        # Asked of each route by the public `matches` only: included routers hide their routes.
        routes = self.routes()
        methods = [
            method
            for method in METHODS
            if any(route.matches({**scope, "method": method})[0] is Match.FULL for route in routes)
        ]
        return [*methods, "OPTIONS"] if methods else []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            allowed = self.allowed(scope)
            if allowed:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 204,
                        "headers": [(b"allow", ", ".join(allowed).encode())],
                    }
                )
                await send({"type": "http.response.body", "body": b""})
                return

        async def send_allowed(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                headers = [(n, v) for n, v in message.get("headers", []) if n.lower() != b"allow"]
                headers.append((b"allow", ", ".join(self.allowed(scope)).encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_allowed)


# --- the client's address -----------------------------------------------------------------------


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:443
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # 192.0.2.1:443
        text = text.split(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def client_address(peer: str, forwarded: Sequence[str], trusted: Sequence[Network]) -> str:
    """The client's address: the peer's, unless the peer is a trusted proxy; then the first
    address of `X-Forwarded-For` from the right that is not a trusted proxy.

    Read from the right because each proxy appends the address it was connected from: entries
    left of the first untrusted one were written by the client and prove nothing.
    """
    current = _address(peer)
    if current is None or not any(current in net for net in trusted):
        return peer
    hops = [hop for header in forwarded for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            # Garbage beyond a trusted hop: that hop is the last address anybody vouches for.
            break
        current = address
        if not any(address in net for net in trusted):
            break
    return str(current)


class ClientAddress:
    """Put the client's address (see `client_address`) where every route reads it."""

    def __init__(self, app: Asgi, trusted: Sequence[Network]) -> None:
        self.app = app
        self.trusted = list(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.trusted and scope.get("client"):
            peer, port = scope["client"]
            forwarded = [
                value.decode("latin-1")
                for name, value in scope["headers"]
                if name == b"x-forwarded-for"
            ]
            if forwarded:
                scope = dict(scope)
                scope["client"] = (client_address(peer, forwarded, self.trusted), port)
        await self.app(scope, receive, send)


# --- HTML pages ---------------------------------------------------------------------------------


def security_headers(*, development: bool) -> dict[str, str]:
    """The headers of every HTML page: scripts and styles from our own files only, never framed.

    A presigned S3 link for a video lives on the object store's origin, so media may come from
    any https origin (and http in development, where the object store is local).
    """
    media = "'self' blob: https:" + (" http:" if development else "")
    return {
        "Content-Security-Policy": (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
            f"media-src {media}; connect-src 'self'; frame-ancestors 'none'; "
            "form-action 'self'; base-uri 'none'; object-src 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


class SecurityHeaders:
    """Add `security_headers` to every HTML response that does not set its own."""

    def __init__(self, app: Asgi, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
                if content_type.startswith(b"text/html"):
                    headers += [(n, v) for n, v in self.headers if n not in present]
                else:
                    # A JSON error or a file is never to be read as a page either.
                    if b"x-content-type-options" not in present:
                        headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


# --- API docs -----------------------------------------------------------------------------------

DOCS_PATH = "/api/docs"
_DOCS_FILES = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "docs.js": "text/javascript; charset=utf-8",
}
_DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Dialog API</title>
<link rel="stylesheet" href="/api/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi="{openapi}"></div>
<script src="/api/docs/assets/swagger-ui-bundle.js"></script>
<script src="/api/docs/assets/docs.js"></script>
</body>
</html>
"""


def _docs_file(name: str) -> Path:
    if name == "docs.js":
        return Path(str(resources.files("dialog_platform").joinpath("static/docs.js")))
    from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

    return Path(swagger_ui_path) / name


def docs_router(openapi_url: str) -> APIRouter:
    """Swagger UI from the swagger-ui-bundle package's files, started by a script of ours."""
    router = APIRouter(include_in_schema=False)

    @router.get(DOCS_PATH)
    async def docs() -> HTMLResponse:
        return HTMLResponse(_DOCS_PAGE.replace("{openapi}", openapi_url))

    @router.get(DOCS_PATH + "/assets/{name}")
    async def asset(name: str) -> Response:
        if name not in _DOCS_FILES:
            return Response(status_code=404)
        return FileResponse(_docs_file(name), media_type=_DOCS_FILES[name])

    return router


def install_hardening(app: FastAPI, settings: CommonSettings) -> None:
    """Every middleware above, and the docs where they belong. Call before the app starts."""
    if settings.is_development and app.openapi_url:
        app.include_router(docs_router(app.openapi_url))
    # Added innermost first: the address is fixed before anything logs or limits by it.
    app.add_middleware(AllowedMethods, routes=lambda: app.router.routes)
    app.add_middleware(HeaderLimits)
    headers = security_headers(development=settings.is_development)
    app.add_middleware(SecurityHeaders, headers=headers)
    app.add_middleware(ClientAddress, trusted=settings.trusted_proxies)
