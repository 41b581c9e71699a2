"""The gateway's copy of the reference desk, kept from ReferenceEntryChanged: a redelivery or a
late older version never brings back a withdrawn entry; bad queries are refused in both
languages."""

from __future__ import annotations

import httpx

from dialog_contracts import Envelope, Localized, ReferenceContent, ReferenceEntryChanged
from dialog_platform.testing.waiting import eventually

from .conftest import Booth

ENTRY = ReferenceContent(
    question=Localized(kk="Сынақ сұрағы ма?", ru="Проверочный вопрос?"),
    answer=Localized(kk="Сынақ **жауабы**.", ru="Проверочный **ответ**."),
)


async def publish(booth: Booth, data: ReferenceEntryChanged) -> None:
    envelope = Envelope.wrap(data, source="/dialog/dashboard")
    await booth.replay(
        {"routing_key": data.routing_key(), "envelope": envelope.model_dump(mode="json")}
    )


async def test_a_withdrawn_entry_stays_withdrawn_whatever_arrives_late(
    booth: Booth, http: httpx.AsyncClient
) -> None:
    page = f"{booth.url}/help/replica-entry"
    await publish(booth, ReferenceEntryChanged(entry_id="replica-entry", version=2, entry=ENTRY))

    async def shown() -> bool:
        return (await http.get(page)).status_code == 200

    await eventually(shown)
    await publish(booth, ReferenceEntryChanged(entry_id="replica-entry", version=3, entry=None))

    async def gone() -> bool:
        return (await http.get(page)).status_code == 404

    await eventually(gone)
    # A redelivery of the published version, after the withdrawal, changes nothing.
    await publish(booth, ReferenceEntryChanged(entry_id="replica-entry", version=2, entry=ENTRY))
    marker = ReferenceEntryChanged(
        entry_id="replica-marker", version=1, entry=ENTRY.model_copy(update={"topic": None})
    )
    await publish(booth, marker)  # relayed after the redelivery: once it is in, so was that

    async def marker_in() -> bool:
        return (await http.get(f"{booth.url}/help/replica-marker")).status_code == 200

    await eventually(marker_in)
    assert (await http.get(page)).status_code == 404


async def test_a_query_too_long_is_refused_in_both_languages(
    booth: Booth, http: httpx.AsyncClient
) -> None:
    _, token = booth.kiosk_add()
    refused = await http.get(
        f"{booth.url}/api/v1/reference",
        params={"q": "ә" * 101},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert refused.status_code == 422
    message = refused.json()["error"]["message"]
    assert "100" in message["kk"] and "100" in message["ru"]
    anonymous = await http.get(f"{booth.url}/api/v1/reference")
    assert anonymous.status_code == 401
