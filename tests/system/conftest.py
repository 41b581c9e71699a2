"""The system under test, in both modes: one process, and one process per service.

Each mode is started once per module and shared by its tests; every test registers its own
kiosk, so tests do not see each other's appeals.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from minio import Minio
from pymongo import AsyncMongoClient

from dialog_platform.testing.launch import TEST_SECRET, Distributed, SingleProcess
from dialog_platform.testing.servers import embedded_mongo, moto_s3, s3_media_url
from dialog_platform.testing.smsc import LOGIN as SMSC_LOGIN
from dialog_platform.testing.smsc import PASSWORD as SMSC_PASSWORD
from dialog_platform.testing.smsc import FakeSmscServer

# Small enough that a test can send a real video past it quickly.
MAX_VIDEO_BYTES = 2_000_000
SYSTEM_ENV = {
    "DIALOG_KIOSK_GATEWAY_MAX_VIDEO_BYTES": str(MAX_VIDEO_BYTES),
    "DIALOG_MEDIA_STORE_MAX_BYTES": str(MAX_VIDEO_BYTES),
    "DIALOG_BUS_RETRY_FIRST_DELAY_S": "0.2",
    # No quiet hours: the tests run at any time of day and expect the officials' SMS at once.
    "DIALOG_NOTIFIER_QUIET_START": "00:00",
    "DIALOG_NOTIFIER_QUIET_END": "00:00",
    "DIALOG_NOTIFIER_SMSC_LOGIN": SMSC_LOGIN,
    "DIALOG_NOTIFIER_SMSC_PASSWORD": SMSC_PASSWORD,
}


def system_env(smsc: FakeSmscServer) -> dict[str, str]:
    return {**SYSTEM_ENV, "DIALOG_NOTIFIER_SMSC_URL": smsc.url}


@dataclass
class System:
    mode: str
    gateway_url: str
    routing_url: str
    media_store_url: str
    dashboard_url: str
    receipts_dir: Path
    mongo_url: str
    db_prefix: str
    runner: SingleProcess | Distributed
    smsc: FakeSmscServer
    bucket: tuple[Minio, str] | None = None
    media_dir: Path | None = None

    def kiosk_add(
        self, location: str = "Өскемен, №1 ХҚКО / Усть-Каменогорск, ЦОН №1"
    ) -> tuple[str, str]:
        kiosk_id = f"booth-{uuid.uuid4().hex[:8]}"
        return kiosk_id, self.runner.kiosk_add(kiosk_id, location)

    def internal_headers(self) -> dict[str, str]:
        import hashlib
        import hmac

        token = hmac.new(TEST_SECRET.encode(), b"dialog-internal-v1", hashlib.sha256).hexdigest()
        return {"X-Dialog-Internal": token}

    def stored_objects(self, prefix: str) -> list[str]:
        if self.bucket is not None:
            client, bucket = self.bucket
            return [
                o.object_name for o in client.list_objects(bucket, prefix=prefix, recursive=True)
            ]
        assert self.media_dir is not None
        base = self.media_dir / prefix
        return [str(p) for p in base.rglob("*") if p.is_file()] if base.exists() else []

    def incomplete_uploads(self, prefix: str) -> list[str]:
        if self.bucket is None:
            return []
        client, bucket = self.bucket
        found = client._list_multipart_uploads(bucket, prefix=prefix)
        return [u.object_name for u in found.uploads]

    async def appeals(self, kiosk_id: str) -> list[dict[str, Any]]:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(self.mongo_url, tz_aware=True)
        try:
            db = client[f"{self.db_prefix}_kiosk_gateway"]
            return [a async for a in db.appeals.find({"kiosk_id": kiosk_id})]
        finally:
            await client.close()


def _single(
    tmp: Path, smsc: FakeSmscServer, extra: dict[str, str] | None = None
) -> Iterator[System]:
    runner = SingleProcess(data_dir=tmp, env={**system_env(smsc), **(extra or {})})
    runner.start()
    try:
        state = json.loads((tmp / "nx-27017.json").read_text())
        yield System(
            mode="single",
            gateway_url=runner.url,
            routing_url=runner.url,
            media_store_url=runner.url,
            dashboard_url=runner.url,
            receipts_dir=tmp / "receipts",
            mongo_url=f"mongodb://127.0.0.1:{state['port']}/?directConnection=true",
            db_prefix="dialog",
            runner=runner,
            smsc=smsc,
            media_dir=tmp / "media",
        )
    finally:
        runner.stop()


def _distributed(
    tmp: Path,
    rabbitmq_url: str,
    namespace: str,
    smsc: FakeSmscServer,
    extra: dict[str, str] | None = None,
) -> Iterator[System]:
    with embedded_mongo(tmp / "mongo") as mongo_url, moto_s3() as s3:
        bucket = f"videos-{uuid.uuid4().hex[:8]}"
        runner = Distributed(
            data_dir=tmp,
            bus_url=rabbitmq_url,
            mongo_url=mongo_url,
            media_url=s3_media_url(s3, bucket),
            namespace=namespace,
            db_prefix=namespace,
            env={**system_env(smsc), **(extra or {})},
        )
        try:
            runner.start(("routing", "media-store", "kiosk-gateway", "notifier", "dashboard"))
            yield System(
                mode="distributed",
                gateway_url=runner.url("kiosk-gateway"),
                routing_url=runner.url("routing"),
                media_store_url=runner.url("media-store"),
                dashboard_url=runner.url("dashboard"),
                receipts_dir=tmp / "printer-agent" / "receipts",
                mongo_url=mongo_url,
                db_prefix=namespace,
                runner=runner,
                smsc=smsc,
                bucket=(
                    Minio(s3, access_key="testing", secret_key="testing-secret", secure=False),
                    bucket,
                ),
            )
        finally:
            runner.stop()


@pytest.fixture(scope="module", params=["single", "distributed"])
def system(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, rabbitmq_url: str
) -> Iterator[System]:
    tmp = tmp_path_factory.mktemp(request.param)
    smsc = FakeSmscServer().start()
    # A module may set more (SYSTEM_ENV_EXTRA), e.g. a refresh its test waits for.
    extra: dict[str, str] = getattr(request.module, "SYSTEM_ENV_EXTRA", {})
    if request.param == "single":
        try:
            yield from _single(tmp, smsc, extra)
        finally:
            smsc.stop()
    else:
        namespace = f"sys{uuid.uuid4().hex[:8]}"
        try:
            yield from _distributed(tmp, rabbitmq_url, namespace, smsc, extra)
        finally:
            smsc.stop()
            import asyncio

            from dialog_platform.testing.fixtures import delete_namespace

            asyncio.run(delete_namespace(rabbitmq_url, namespace))


@pytest.fixture
def printer_for(system: System) -> Iterator[Any]:
    """Start the booth's printer-agent (its own process in distributed mode)."""
    started: list[str] = []

    def start(kiosk_id: str) -> None:
        if isinstance(system.runner, Distributed):
            system.runner.start_one("printer-agent", printer_kiosk=kiosk_id)
            started.append(kiosk_id)

    yield start
    if started and isinstance(system.runner, Distributed):
        system.runner.processes["printer-agent"].stop()


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from dialog_platform.testing.webm import make_webm, make_webm_of_size

    d = tmp_path_factory.mktemp("videos")
    return {
        "short": make_webm(d / "short.webm", seconds=5),
        "long": make_webm(d / "long.webm", seconds=250, width=64, height=48, fps=2, audio=False),
        "big": make_webm_of_size(d / "big.webm", MAX_VIDEO_BYTES + 1_000_000),
    }


@pytest.fixture
async def http() -> AsyncIterator[Any]:
    import httpx

    async with httpx.AsyncClient(timeout=60) as client:
        yield client
