"""The directory as events and as a snapshot: what the gateway's and the notifier's read models
are kept from. The phone goes only in OfficialContactChanged, never to the booth."""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient

from dialog_contracts import OfficialChanged, OfficialContactChanged
from dialog_platform import replica
from dialog_platform.clients import ServiceApi
from kiosk_gateway.directory import DirectoryReplica
from notifier.handlers import Contacts

from .conftest import Rig, png
from .test_directory import NEW_OFFICIAL


def latest(rig: Rig, event: type[Any], official_id: str) -> Any:
    return [e for e in rig.events(event) if e.official_id == official_id][-1]


async def test_each_change_is_announced_with_a_newer_version(rig: Rig) -> None:
    seeded = rig.events(OfficialChanged)
    assert {e.official_id for e in seeded} >= {"akim", "deputy-housing"}
    assert all(e.photo is not None and e.photo.data for e in seeded)

    assert (await rig.post("/api/v1/directory/officials", NEW_OFFICIAL)).status_code == 201
    await rig.settle()
    public = latest(rig, OfficialChanged, "deputy-ecology")
    contact = latest(rig, OfficialContactChanged, "deputy-ecology")
    assert public.version == contact.version == 1
    assert "phone" not in public.model_dump() and contact.phone == "+77010000009"

    r = await rig.patch("/api/v1/directory/officials/deputy-ecology", {"phone": "+77010000010"})
    assert r.status_code == 200, r.text
    r = await rig.http.put(
        "/api/v1/directory/officials/deputy-ecology/photo",
        content=png(),
        headers={**rig.headers, "Content-Type": "image/png"},
    )
    assert r.status_code == 200, r.text
    await rig.settle()
    public = latest(rig, OfficialChanged, "deputy-ecology")
    contact = latest(rig, OfficialContactChanged, "deputy-ecology")
    assert public.version == contact.version == 3
    assert contact.phone == "+77010000010" and public.photo and public.photo.data


async def test_fresh_read_models_fill_from_the_snapshot(
    rig: Rig, mongo: AsyncMongoClient[dict[str, Any]], db_prefix: str
) -> None:
    assert (await rig.post("/api/v1/directory/officials", NEW_OFFICIAL)).status_code == 201
    denied = await rig.http.get("/api/v1/directory/snapshot")
    assert denied.status_code in (401, 403)

    gateway_db = mongo[f"{db_prefix}_test_gateway_replica"]
    notifier_db = mongo[f"{db_prefix}_test_notifier_replica"]
    try:
        # Routing's API as the gateway and the notifier reach it, here through the test's app.
        routing = ServiceApi(rig.http, str(rig.http.base_url), rig.ctx.settings)
        booth = DirectoryReplica(gateway_db, routing)
        contacts = Contacts(notifier_db, routing)
        assert await replica.sync_from_snapshot(booth.collection, booth.snapshot) >= 3
        assert await replica.sync_from_snapshot(contacts.collection, contacts.snapshot) >= 3
        # A second sync finds nothing newer.
        assert await replica.sync_from_snapshot(booth.collection, booth.snapshot) == 0

        found = await booth.official("deputy-ecology")
        assert found is not None and "phone" not in found
        assert await booth.photo("deputy-housing") is not None
        reach = await contacts.official("deputy-ecology")
        assert reach is not None and reach["phone"] == "+77010000009"
    finally:
        await mongo.drop_database(gateway_db.name)
        await mongo.drop_database(notifier_db.name)
