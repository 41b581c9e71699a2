"""The gateway's own read model of the officials directory, kept from OfficialChanged events."""

from __future__ import annotations

from typing import Any

import httpx
from pymongo import AsyncMongoClient

from dialog_contracts import Envelope, Localized, OfficialChanged
from dialog_platform.testing.waiting import eventually

from .conftest import Booth


def changed(version: int, name: str, *, active: bool = True) -> OfficialChanged:
    return OfficialChanged(
        official_id="replica-test",
        version=version,
        order=999,
        full_name=Localized(kk=f"{name} kk", ru=f"{name} ru"),
        position=Localized(kk="Маман", ru="Специалист"),
        competence=Localized(kk="Сынақ", ru="Проверка"),
        active=active,
    )


async def publish(booth: Booth, data: OfficialChanged) -> None:
    envelope = Envelope.wrap(data, source="/dialog/routing")
    await booth.replay(
        {"routing_key": data.routing_key(), "envelope": envelope.model_dump(mode="json")}
    )


async def picker(booth: Booth, http: httpx.AsyncClient, token: str) -> dict[str, Any]:
    found = await http.get(
        f"{booth.url}/api/v1/officials", headers={"Authorization": f"Bearer {token}"}
    )
    assert found.status_code == 200, found.text
    return {o["id"]: o for o in found.json()["officials"]}


async def test_the_read_model_holds_the_public_directory_and_never_a_phone(booth: Booth) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(booth.mongo_url, tz_aware=True)
    try:
        docs = [d async for d in client["dialog_kiosk_gateway"].officials.find({})]
    finally:
        await client.close()
    ids = {d["_id"] for d in docs}
    assert "deputy-housing" in ids
    assert all("phone" not in d for d in docs)
    assert all(d["photo"]["data"] for d in docs)  # the photos are kept too, for routing's outages


async def test_an_event_applies_once_and_an_older_one_never_wins(
    booth: Booth, http: httpx.AsyncClient
) -> None:
    _, token = booth.kiosk_add()
    await publish(booth, changed(2, "Second"))
    await publish(booth, changed(2, "Second"))  # a redelivery
    await publish(booth, changed(1, "First"))  # a late retry of an older change

    async def shown() -> bool:
        return "replica-test" in await picker(booth, http, token)

    await eventually(shown)
    officials = await picker(booth, http, token)
    assert officials["replica-test"]["full_name"]["ru"] == "Second ru"

    await publish(booth, changed(3, "Third", active=False))

    async def gone() -> bool:
        return "replica-test" not in await picker(booth, http, token)

    await eventually(gone)
    created = await http.post(
        f"{booth.url}/api/v1/appeals",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "official_id": "replica-test",
            "phone": "+7 701 234 56 78",
            "language": "ru",
            "category": "question",
            "consent": True,
            "full_name": "Айгүл Серікқызы Нұрланова",
            "iin": "900101400013",
        },
    )
    assert created.status_code == 422 and created.json()["error"]["field"] == "official_id"
