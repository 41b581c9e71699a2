"""The citizen's rating of the answer through the booth API: only with the right number and code
(the look-up's limits and refusals), replaced within 30 days, refused after; routing gets it.

This module runs its own system: it moves the clock a month on, which the session's other
tests must not see.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from dialog_platform.testing.waiting import eventually
from dialog_platform.testing.webm import make_webm

from .conftest import INTERNAL, Booth, running_booth
from .test_booth_api import registered

RATE = "/api/v1/answers/rating"
LOOKUP = "/api/v1/answers/lookup"


@pytest.fixture(scope="module")
def own_booth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Booth]:
    env = {"DIALOG_BUS_RETRY_FIRST_DELAY_S": "0.2"}
    with running_booth(tmp_path_factory.mktemp("rating"), env) as running:
        yield running


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_webm(tmp_path_factory.mktemp("v") / "a.webm", seconds=3).read_bytes()


def keys(receipt: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "registration_number": receipt["registration_number"],
        "access_code": receipt["access_code"],
        **more,
    }


async def answered(booth: Booth, http: httpx.AsyncClient, video: bytes) -> dict[str, Any]:
    receipt = await registered(booth, http, video)
    await booth.answer(receipt["appeal_id"], "Свет починят в мае.")

    async def shown() -> bool:
        found = (await http.post(f"{booth.url}{LOOKUP}", json=keys(receipt))).json()
        return bool(found["status"] == "answered" and found["answer"])

    await eventually(shown)
    return receipt


async def routing_rating(booth: Booth, http: httpx.AsyncClient, appeal_id: str) -> Any:
    case = await http.get(f"{booth.url}/api/v1/cases/{appeal_id}", headers=INTERNAL)
    return case.json().get("rating")


async def test_a_second_rating_replaces_the_first_and_after_30_days_it_is_refused(
    own_booth: Booth, http: httpx.AsyncClient, video: bytes
) -> None:
    booth = own_booth
    early = await registered(booth, http, video)
    not_yet = await http.post(f"{booth.url}{RATE}", json=keys(early, helped=True))
    assert not_yet.status_code == 409 and not_yet.json()["error"]["code"] == "not_answered"
    assert not_yet.json()["error"]["message"]["kk"]

    receipt = await answered(booth, http, video)
    no_reason = await http.post(f"{booth.url}{RATE}", json=keys(receipt, helped=False))
    assert no_reason.status_code == 422 and no_reason.json()["error"]["field"] == "reason"
    bad_reason = await http.post(
        f"{booth.url}{RATE}", json=keys(receipt, helped=False, reason="angry")
    )
    assert bad_reason.status_code == 422 and bad_reason.json()["error"]["field"] == "reason"
    for bad, field in [
        (keys(receipt, helped="maybe"), "helped"),
        (keys(receipt, helped=False, reason="late", comment="x" * 501), "comment"),
        (keys(receipt, helped=True, stars=5), "stars"),
        ({"registration_number": receipt["registration_number"], "helped": True}, "access_code"),
    ]:
        refused = await http.post(f"{booth.url}{RATE}", json=bad)
        assert refused.status_code == 422, refused.text
        assert field in str(refused.json()["error"].get("field")), (field, refused.text)
        assert refused.json()["error"]["message"]["kk"] and refused.json()["error"]["message"]["ru"]
    assert (await http.post(f"{booth.url}{LOOKUP}", json=keys(receipt))).json()["rating"] is None

    no = await http.post(
        f"{booth.url}{RATE}",
        json=keys(receipt, helped=False, reason="unclear", comment="  Когда   именно? "),
    )
    assert no.status_code == 200, no.text
    assert no.json()["rating"]["helped"] is False and no.json()["rating"]["changeable"]
    assert no.json()["rating"]["comment"] == "Когда именно?"
    assert no.json()["follow_up"]["state"] == "open"
    first = await eventually(lambda: routing_rating(booth, http, receipt["appeal_id"]))
    assert first["helped"] is False and first["reason"] == "unclear"

    # Within the window the citizen changes their mind: the new rating replaces the first.
    booth.runner.move_clock(timedelta(days=29))
    yes = await http.post(f"{booth.url}{RATE}", json=keys(receipt, helped=True))
    assert yes.status_code == 200, yes.text
    assert yes.json()["rating"]["helped"] is True and yes.json()["follow_up"] is None

    async def replaced() -> bool:
        found = await routing_rating(booth, http, receipt["appeal_id"])
        return bool(found and found["helped"])

    await eventually(replaced)

    # A month after the first rating it stands: refused, and nothing changes.
    booth.runner.move_clock(timedelta(days=2))
    late = await http.post(f"{booth.url}{RATE}", json=keys(receipt, helped=False, reason="late"))
    assert late.status_code == 409 and late.json()["error"]["code"] == "rating_closed"
    assert "30" in late.json()["error"]["message"]["ru"]
    shown = (await http.post(f"{booth.url}{LOOKUP}", json=keys(receipt))).json()
    assert shown["rating"]["helped"] is True and shown["rating"]["changeable"] is False
    assert (await routing_rating(booth, http, receipt["appeal_id"]))["helped"] is True


async def test_only_the_right_number_and_code_rate_behind_the_lookups_limits(
    own_booth: Booth, http: httpx.AsyncClient, video: bytes
) -> None:
    booth = own_booth
    receipt = await answered(booth, http, video)
    wrong = keys(receipt, helped=False, reason="other")
    wrong["access_code"] = "0" * 8 if receipt["access_code"] != "0" * 8 else "1" * 8
    # The same 404 as the look-up, counting down to the same lock.
    first = await http.post(f"{booth.url}{RATE}", json=wrong)
    looked = await http.post(f"{booth.url}{LOOKUP}", json=keys(wrong))
    assert first.status_code == looked.status_code == 404
    assert first.json()["error"]["code"] == looked.json()["error"]["code"] == "lookup_not_found"
    for _ in range(3):
        assert (await http.post(f"{booth.url}{RATE}", json=wrong)).status_code == 404
    # The fifth wrong code of this client (look-ups and ratings together) locks it out.
    locked = await http.post(f"{booth.url}{RATE}", json={**wrong, **keys(receipt)})
    assert locked.status_code == 429 and locked.json()["error"]["code"] == "lookup_locked"
    assert (await http.post(f"{booth.url}{LOOKUP}", json=keys(receipt))).status_code == 429
    assert await routing_rating(booth, http, receipt["appeal_id"]) is None

    # A booth's own budget of look-ups a minute is spent by ratings too.
    _, token = booth.kiosk_add()
    auth = {"Authorization": f"Bearer {token}"}
    never = {"registration_number": "2099-999999-7", "access_code": "12345678", "helped": True}
    statuses = [
        (await http.post(f"{booth.url}{RATE}", json=never, headers=auth)).status_code
        for _ in range(21)
    ]
    assert set(statuses[:20]) <= {404, 422} and statuses[20] == 429, statuses
