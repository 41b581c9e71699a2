"""A local stand-in for the SMSC.kz HTTP API (the real gateway is paid and out of reach here).

It follows SMSC's documented HTTP protocol: `/sys/send.php`, `/sys/status.php` and
`/sys/balance.php`, GET or POST form fields, `fmt=3` JSON answers, `login`+`psw` or `apikey`,
the client's own message `id`, the documented error codes, and status codes (-3 not found,
-1 queued, 0 passed to the operator, 1 delivered, 20 undeliverable, 22 wrong number). It records
what it received, and a test can script failures.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

LOGIN = "dialog"
PASSWORD = "smsc-test-password"  # noqa: S105 - the fake server's own test credential

# Error codes of send.php (documented): 1 bad parameters, 2 bad login/password, 3 no funds,
# 4 IP blocked for a while, 6 message forbidden (text or sender), 7 bad phone format,
# 8 cannot be delivered to the number, 9 too many identical requests.


@dataclass
class Sent:
    phone: str
    text: str
    message_id: str
    sender: str
    form: dict[str, str]


@dataclass
class FakeSmsc:
    """Thread-safe state; `scripted` failures are consumed in order, one per send request."""

    messages: list[Sent] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)
    scripted: deque[tuple[int, dict[str, Any] | None]] = field(default_factory=deque)
    permanent_by_phone: dict[str, int] = field(default_factory=dict)
    statuses: dict[tuple[str, str], int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # When set, send.php records the message and then waits for `release` before answering:
    # the window in which a client can die after SMSC accepted but before it heard so.
    stall_after_accept: bool = False
    release: threading.Event = field(default_factory=threading.Event)
    accepted: threading.Event = field(default_factory=threading.Event)

    def fail_next(self, http_status: int = 500, body: dict[str, Any] | None = None) -> None:
        """The next send answers `http_status` (and `body`), without sending."""
        with self.lock:
            self.scripted.append((http_status, body))

    def sent_to(self, phone: str) -> list[Sent]:
        with self.lock:
            return [m for m in self.messages if m.phone == phone]

    def handle(self, path: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.requests.append({"path": path, **{k: v for k, v in form.items() if k != "psw"}})
            authorized = (form.get("login") == LOGIN and form.get("psw") == PASSWORD) or (
                form.get("apikey") == PASSWORD
            )
            if path.endswith("/send.php"):
                if self.scripted:
                    status, body = self.scripted.popleft()
                    return status, body or {"error": "internal error"}
                if not authorized:
                    return 200, {"error": "authorise error", "error_code": 2}
                phone = form.get("phones", "").lstrip("+")
                text = form.get("mes", "")
                if not phone or not text:
                    return 200, {"error": "parameters error", "error_code": 1}
                if not phone.isdigit():
                    return 200, {"error": "invalid number", "error_code": 7}
                if phone in self.permanent_by_phone:
                    code = self.permanent_by_phone[phone]
                    return 200, {"error": "message cannot be delivered", "error_code": code}
                message_id = form.get("id") or str(len(self.messages) + 1)
                self.messages.append(
                    Sent(
                        phone=f"+{phone}",
                        text=text,
                        message_id=message_id,
                        sender=form.get("sender", ""),
                        form=dict(form),
                    )
                )
                self.statuses[(phone, message_id)] = 0
                return 200, {"id": message_id, "cnt": 1}
            if path.endswith("/status.php"):
                if not authorized:
                    return 200, {"error": "authorise error", "error_code": 2}
                phone = form.get("phone", "").lstrip("+").rstrip(",")
                message_id = form.get("id", "").rstrip(",")
                known = self.statuses.get((phone, message_id))
                if known is None:
                    return 200, {"status": -3, "err": 0}
                return 200, {"status": known, "last_timestamp": 0, "err": 0}
            if path.endswith("/balance.php"):
                if not authorized:
                    return 200, {"error": "authorise error", "error_code": 2}
                return 200, {"balance": "1000.00", "currency": "KZT"}
            return 404, {"error": "not found"}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _answer(self, form: dict[str, str]) -> None:
        state = self.server.state
        status, body = state.handle(urlsplit(self.path).path, form)
        if urlsplit(self.path).path.endswith("/send.php") and "id" in body:
            state.accepted.set()
            if state.stall_after_accept:
                state.release.wait(timeout=60)
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        self._answer({k: v[-1] for k, v in query.items()})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length).decode("utf-8")
        self._answer({k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()})

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    state: FakeSmsc


@dataclass
class FakeSmscServer:
    state: FakeSmsc = field(default_factory=FakeSmsc)
    server: _Server | None = None
    thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeSmscServer:
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.state = self.state
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def __enter__(self) -> FakeSmscServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
