"""The inbox and the overdue and due-soon lists, served by the composite keys each case carries:
the same rows and pages as the field filters, kept right through forward, extension and answer,
given to cases stored before routing kept them, and read from an index."""

from __future__ import annotations

import json
from datetime import date, timedelta

from routing import repository as repo
from routing.queries import CaseFilter, key_range

from .conftest import Rig, RigFactory, stop
from .test_cases_api import every_page, ids, seed


async def test_open_lists_page_through_the_keys_like_the_field_filters(rig: Rig) -> None:
    await seed(rig)  # a0 answered; control dates a0 30 Oct … a9 17 Nov; today Mon 2 Nov
    open_ = [f"a{i}" for i in range(1, 10)]
    assert await every_page(rig, status="open", limit=2) == open_
    assert await every_page(rig, status="open", limit=4, sort="-control_date") == open_[::-1]
    housing = ["a2", "a4", "a6", "a8"]
    assert await every_page(rig, status="open", official_id="deputy-housing", limit=1) == housing
    assert (
        await every_page(
            rig, status="open", official_id="deputy-housing", limit=3, sort="-control_date"
        )
        == housing[::-1]
    )
    assert await every_page(rig, due="soon", limit=1) == ["a2", "a3"]
    assert await every_page(rig, due="soon", limit=1, sort="-control_date") == ["a3", "a2"]
    assert await every_page(rig, due="overdue", official_id="deputy-social", limit=1) == ["a1"]
    assert await ids(rig, due="overdue", official_id="deputy-housing") == []  # a0 is answered
    # Status and due together: overdue and due soon at once is nothing.
    assert await ids(rig, status="overdue", due="soon") == []


async def test_ties_on_the_control_date_are_not_lost_between_keyed_pages(rig: Rig) -> None:
    for i in range(7):
        await rig.record(f"t{i}", control_date=date(2026, 11, 16))
    tied = [f"t{i}" for i in range(7)]
    assert await every_page(rig, status="open", official_id="deputy-housing", limit=2) == tied
    assert await every_page(rig, status="open", limit=3, sort="-control_date") == tied[::-1]


async def test_inbox_and_lists_follow_forward_extension_and_answer(rig: Rig) -> None:
    await seed(rig)
    r = await rig.post(
        "/api/v1/cases/a4/forward", {"to_official_id": "deputy-social", "reason": "x", "by": "c"}
    )
    assert r.status_code == 200, r.text
    assert await ids(rig, status="open", official_id="deputy-housing") == ["a2", "a6", "a8"]
    social = await ids(rig, status="open", official_id="deputy-social")
    assert social == ["a1", "a3", "a4", "a5", "a7", "a9"]

    # a1 (control 1 Nov, overdue) extended to 20 Nov: out of the overdue list, last in the inbox.
    r = await rig.post(
        "/api/v1/cases/a1/extend",
        {"legal_deadline": "2026-11-20", "control_date": "2026-11-20", "reason": "x", "by": "s"},
    )
    assert r.status_code == 200, r.text
    assert await ids(rig, due="overdue") == []
    assert await ids(rig, status="open", official_id="deputy-social") == [
        "a3",
        "a4",
        "a5",
        "a7",
        "a9",
        "a1",
    ]

    await rig.answer("a2", rig.clock(), official_id="deputy-housing")
    assert await ids(rig, status="open", official_id="deputy-housing") == ["a6", "a8"]
    assert await ids(rig, due="soon") == ["a3"]


async def test_cases_stored_without_keys_get_them_at_start(start_rig: RigFactory) -> None:
    first = await start_rig()
    await first.record("old1", control_date=date(2026, 11, 20))
    await first.record("old2", control_date=date(2026, 11, 18))
    db = first.ctx.db
    # As an earlier routing left its database: no keys, and no mark that they were added.
    await db.cases.update_many({}, {"$unset": {repo.INBOX_KEY: "", repo.OVERDUE_KEY: ""}})
    await db.meta.delete_many({})
    await stop(first)

    second = await start_rig(first.clock)
    assert await ids(second, status="open", official_id="deputy-housing") == ["old2", "old1"]
    assert await ids(second, status="open", sort="-control_date") == ["old1", "old2"]


async def test_the_inbox_and_overdue_list_read_an_index(rig: Rig) -> None:
    for i in range(30):
        await rig.record(f"c{i}", control_date=date(2026, 10, 20) + timedelta(days=i))
    today = date(2026, 11, 2)
    for f in (
        CaseFilter(official_id="deputy-housing", status="open"),
        CaseFilter(due="overdue"),
        CaseFilter(due="soon", sort="-control_date"),
    ):
        keyed = key_range(f, today=today, soon_until=today + timedelta(days=3))
        assert keyed is not None, f
        plan = await rig.ctx.db.command(
            "explain",
            {
                "find": "cases",
                "filter": {keyed.key: keyed.bounds(descending=False, after=None)},
                "sort": {keyed.key: 1},
                "limit": 51,
            },
        )
        assert f"USING INDEX idx_cases_{keyed.key}" in json.dumps(plan["queryPlanner"]), plan
