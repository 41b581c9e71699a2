"""The admin's dead letters in the single process: listed per queue, replayed, dropped, audited."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from dialog_contracts import AppealRouted, Envelope
from dialog_platform.bus.deadletters import StoredDeadLetters

from .conftest import Browser, Dialog, logged_in

# A consumer no process runs: whatever the running bus does with a replay, nothing handles it.
CONSUMER = "test-consumer"
QUEUE = f"{CONSUMER}.appeal-routed.dlq"


def routed() -> Envelope:
    data = AppealRouted(
        appeal_id=uuid.uuid4().hex,
        registration_number="2025-000009-1",
        official_id="deputy-housing",
        addressed_official_id="deputy-housing",
        language="kk",
        control_date=date(2025, 3, 17),
        legal_deadline=date(2025, 3, 24),
        routed_at=datetime(2025, 3, 3, 10, 0, tzinfo=UTC),
    )
    return Envelope.wrap(data, source="test/routing")


@pytest.fixture
async def store(dialog: Dialog) -> AsyncIterator[StoredDeadLetters]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(dialog.mongo_url, tz_aware=True)
    yield StoredDeadLetters(client["dialog_bus"])
    await client.close()


async def test_admin_sees_replays_and_drops_dead_letters_and_the_audit_log_says_who(
    dialog: Dialog, browser: Callable[[], Browser], store: StoredDeadLetters
) -> None:
    one, two, three = routed(), routed(), routed()
    for envelope in (one, two, three):
        await store.record(envelope, CONSUMER, "ValueError: no such appeal", 5)
    admin = dialog.user("root", "admin")
    b = await logged_in(browser, admin)

    listing = await b.get("/dashboard/admin/dead-letters")
    assert listing.status_code == 200, listing.text
    assert "Өңделмеген хабарламалар" in listing.text
    assert f'data-queue="{QUEUE}" data-count="3"' in listing.text
    assert "ValueError: no such appeal" in listing.text
    # How old the oldest is, in the page's language (it read «40s» on a Kazakh page).
    assert re.search(r"<td>\d+ с</td>", listing.text), listing.text

    page = await b.get(f"/dashboard/admin/dead-letters/{QUEUE}")
    assert page.status_code == 200
    for envelope in (one, two, three):
        assert f'data-id="{envelope.id}"' in page.text
    assert "2025-000009-1" not in page.text  # the payload is never shown
    assert AppealRouted.TYPE in page.text

    dropped = await b.post(f"/dashboard/admin/dead-letters/{QUEUE}/drop", {"id": one.id})
    assert dropped.status_code == 303, dropped.text
    again = await b.get(dropped.headers["location"])
    assert f'data-id="{one.id}"' not in again.text and 'id="dropped"' in again.text
    missing = await b.post(f"/dashboard/admin/dead-letters/{QUEUE}/drop", {"id": one.id})
    assert missing.status_code == 404

    await b.get(f"/dashboard/admin/dead-letters/{QUEUE}")
    just_one = await b.post(f"/dashboard/admin/dead-letters/{QUEUE}/replay", {"id": two.id})
    assert just_one.status_code == 303
    assert just_one.headers["location"].endswith(f"/dead-letters/{QUEUE}?replayed=1")

    await b.get("/dashboard/admin/dead-letters")
    rest = await b.post(f"/dashboard/admin/dead-letters/{QUEUE}/replay")
    assert rest.status_code == 303
    assert rest.headers["location"] == "/dashboard/admin/dead-letters?replayed=1"
    after = await b.get(rest.headers["location"])
    assert f'data-queue="{QUEUE}"' not in after.text and 'id="replayed"' in after.text

    replays = await dialog.audit(action="dlq_replay", login=admin)
    assert [(e["detail"]["queue"], e["detail"]["ids"]) for e in replays][-2:] == [
        (QUEUE, [two.id]),
        (QUEUE, "all"),
    ]
    drops = await dialog.audit(action="dlq_drop", login=admin)
    assert drops[-1]["detail"] == {"queue": QUEUE, "ids": [one.id]}
    audit_page = await b.get("/dashboard/admin/audit", params={"action": "dlq_replay"})
    assert 'data-action="dlq_replay"' in audit_page.text


async def test_dead_letters_are_for_the_admin_only_and_forms_need_their_token(
    dialog: Dialog, browser: Callable[[], Browser], store: StoredDeadLetters
) -> None:
    envelope = routed()
    await store.record(envelope, CONSUMER, "RuntimeError: content", 5)
    admin = await logged_in(browser, dialog.user("root", "admin"))
    await admin.get("/dashboard/admin/dead-letters")
    forged = await admin.post(
        f"/dashboard/admin/dead-letters/{QUEUE}/replay", {"csrf": "forged"}, csrf=False
    )
    assert forged.status_code == 403
    assert (await admin.get("/dashboard/admin/dead-letters/nobody.nothing.dlq")).status_code == 404
    assert (await admin.get("/dashboard/admin/dead-letters/Bad%20Name")).status_code == 404

    await admin.get("/dashboard/lang/ru?next=/dashboard/admin/dead-letters")
    russian = await admin.get("/dashboard/admin/dead-letters")
    assert "Необработанные сообщения" in russian.text and "Отправить все повторно" in russian.text

    official = await logged_in(browser, dialog.user("housing", "official", "deputy-housing"))
    assert (await official.get("/dashboard/admin/dead-letters")).status_code == 404
    await official.get("/dashboard/inbox")
    refused = await official.post(
        f"/dashboard/admin/dead-letters/{QUEUE}/drop", {"id": envelope.id}
    )
    assert refused.status_code == 404
    assert [d.id for d in await store.show(QUEUE)] == [envelope.id]
