"""One real `dialog run` (embedded backends) for the gateway's API and browser tests.

The dashboard's answers endpoint is answered by a stand-in (`AnswersStandIn`) until the real
one lands; everything else is the real system. Events such as AnswerPosted enter the running
process's in-process bus through its outbox relay, the same path every published event takes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from dialog_contracts import Envelope, EventData
from dialog_platform.net import free_port
from dialog_platform.testing.launch import TEST_SECRET, SingleProcess

# Short limits and idle times so the browser tests take seconds, not minutes.
BASE_S = 10
EXTENSION_S = 5
IDLE_S = 8
IDLE_CONFIRM_S = 4
INTERNAL = {
    "X-Dialog-Internal": hmac.new(
        TEST_SECRET.encode(), b"dialog-internal-v1", hashlib.sha256
    ).hexdigest()
}


@dataclass
class AnswersStandIn:
    """GET /dashboard/internal/answers/{appeal_id} of the contract, and nothing else."""

    answers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    calls: int = 0
    port: int = 0
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> AnswersStandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                stand_in.calls += 1
                prefix = "/dashboard/internal/answers/"
                if self.headers.get("X-Dialog-Internal") != INTERNAL["X-Dialog-Internal"]:
                    self._send(403, {"error": {"code": "forbidden"}})
                elif not self.path.startswith(prefix):
                    self._send(404, {"error": {"code": "not_found"}})
                else:
                    found = stand_in.answers.get(self.path[len(prefix) :])
                    if found:
                        self._send(200, {"answers": found})
                    else:
                        self._send(404, {"error": {"code": "not_found"}})

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.port = free_port()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()


@dataclass
class Booth:
    """The running system as the gateway's tests see it."""

    runner: SingleProcess
    data_dir: Path
    mongo_url: str
    dashboard: AnswersStandIn

    @property
    def url(self) -> str:
        return self.runner.url

    @property
    def receipts(self) -> Path:
        return self.data_dir / "receipts"

    @property
    def media(self) -> Path:
        return self.data_dir / "media"

    def kiosk_add(
        self, location: str = "Өскемен, №1 ХҚКО / Усть-Каменогорск, ЦОН №1"
    ) -> tuple[str, str]:
        kiosk_id = f"booth-{uuid.uuid4().hex[:8]}"
        return kiosk_id, self.runner.kiosk_add(kiosk_id, location)

    async def appeals(self, kiosk_id: str) -> list[dict[str, Any]]:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(self.mongo_url, tz_aware=True)
        try:
            db = client["dialog_kiosk_gateway"]
            return [a async for a in db.appeals.find({"kiosk_id": kiosk_id})]
        finally:
            await client.close()

    async def publish(self, data: EventData) -> None:
        """Publish an event into the running system, relayed by the gateway's outbox."""
        envelope = Envelope.wrap(data, source="/test")
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(self.mongo_url, tz_aware=True)
        try:
            await client["dialog_kiosk_gateway"].outbox.insert_one(
                {
                    "_id": envelope.id,
                    "routing_key": data.routing_key(),
                    "envelope": envelope.model_dump(mode="json", exclude_none=True),
                    "created_at": datetime.now(UTC),
                    "state": "pending",
                    "lease_until": 0.0,
                    "attempts": 0,
                }
            )
        finally:
            await client.close()


@pytest.fixture(scope="session")
def booth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Booth]:
    data_dir = tmp_path_factory.mktemp("booth")
    dashboard = AnswersStandIn().start()
    runner = SingleProcess(
        data_dir=data_dir,
        env={
            "DIALOG_BUS_RETRY_FIRST_DELAY_S": "0.2",
            "DIALOG_DASHBOARD_URL": dashboard.url,
            "DIALOG_KIOSK_GATEWAY_BASE_DURATION_S": str(BASE_S),
            "DIALOG_KIOSK_GATEWAY_EXTENSION_S": str(EXTENSION_S),
            "DIALOG_KIOSK_GATEWAY_IDLE_S": str(IDLE_S),
            "DIALOG_KIOSK_GATEWAY_IDLE_CONFIRM_S": str(IDLE_CONFIRM_S),
            # Every browser test looks answers up from the same loopback address.
            "DIALOG_KIOSK_GATEWAY_LOOKUP_PER_IP_PER_MINUTE": "200",
        },
    )
    try:
        runner.start()
        state = json.loads((data_dir / "nx-27017.json").read_text())
        yield Booth(
            runner=runner,
            data_dir=data_dir,
            mongo_url=f"mongodb://127.0.0.1:{state['port']}/?directConnection=true",
            dashboard=dashboard,
        )
    finally:
        runner.stop()
        dashboard.stop()


@pytest.fixture
async def http() -> AsyncIterator[Any]:
    import httpx

    async with httpx.AsyncClient(timeout=60) as client:
        yield client
