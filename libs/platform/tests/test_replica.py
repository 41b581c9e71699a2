"""A read model of another service's data: newer versions only, filled from its snapshot
through the one internal client, and an outage or a missing address kept apart from data."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from dialog_platform.clients import ServiceApi, Unavailable
from dialog_platform.documents import connect
from dialog_platform.internal import HEADER, internal_headers
from dialog_platform.replica import Replica, Row, Snapshot, sync_from_snapshot
from dialog_platform.settings import CommonSettings

SETTINGS = CommonSettings()


class ThingChanged(BaseModel):
    thing_id: str
    version: int
    name: str


class Things(Replica[ThingChanged]):
    collection_name = "things"
    event = ThingChanged
    source = Snapshot("/things/snapshot", "things", params={"audience": "public"})

    def row(self, event: ThingChanged) -> Row:
        return event.thing_id, event.version, {"name": event.name}


def producer(things: list[dict[str, Any]], *, status: int = 200) -> FastAPI:
    app = FastAPI()

    @app.get("/things/snapshot")
    async def snapshot(request: Request, audience: str) -> JSONResponse:
        if request.headers.get(HEADER) != internal_headers(SETTINGS)[HEADER]:
            return JSONResponse({"error": {"code": "internal"}}, status_code=403)
        assert audience == "public"
        return JSONResponse({"things": things}, status_code=status)

    return app


@pytest.fixture
async def db(mongo_url: str, db_prefix: str) -> Any:
    client: AsyncMongoClient[dict[str, Any]] = connect(mongo_url)
    yield client[f"{db_prefix}_replica"]
    await client.drop_database(f"{db_prefix}_replica")
    await client.close()


async def test_the_snapshot_fills_and_only_newer_versions_land(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    app = producer([{"thing_id": "a", "version": 2, "name": "A2"}])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        things = Things(db, ServiceApi(http, "http://producer", SETTINGS))
        assert await sync_from_snapshot(things.collection, things.snapshot) == 1
        assert await sync_from_snapshot(things.collection, things.snapshot) == 0

    assert not await things.changed(ThingChanged(thing_id="a", version=1, name="A1"))
    assert await things.changed(ThingChanged(thing_id="a", version=3, name="A3"))
    assert await things.changed(ThingChanged(thing_id="b", version=1, name="B1"))
    kept = {d["_id"]: d async for d in things.collection.find({})}
    assert kept == {
        "a": {"_id": "a", "name": "A3", "version": 3},
        "b": {"_id": "b", "name": "B1", "version": 1},
    }


async def test_an_outage_or_no_address_is_unavailable(db: AsyncDatabase[dict[str, Any]]) -> None:
    app = producer([], status=503)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        down = Things(db, ServiceApi(http, "http://producer", SETTINGS))
        with pytest.raises(Unavailable):
            await down.snapshot()
        unaddressed = Things(db, ServiceApi(http, None, SETTINGS))
        assert unaddressed.producer is None
        with pytest.raises(Unavailable):
            await unaddressed.snapshot()
