"""The cases list the dashboard reads: filters, sorts, keyset pages, and refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from .conftest import RECORDED_AT, Rig


async def seed(rig: Rig) -> None:
    # Today (the rig's clock) is Mon 2 Nov 2026. Ten cases: control dates spread from 30 Oct
    # (overdue) to 20 Nov, for two officials; a1 answered, a2 opened.
    for i in range(10):
        official = "deputy-housing" if i % 2 == 0 else "deputy-social"
        control = date(2026, 10, 30) + timedelta(days=2 * i)
        await rig.record(
            f"a{i}",
            official_id=official,
            control_date=control,
            legal_deadline=control + timedelta(days=7),
            recorded_at=RECORDED_AT - timedelta(hours=10 - i),
        )
    await rig.answer("a0", RECORDED_AT, official_id="deputy-housing")
    await rig.post("/api/v1/cases/a2/opened", {"by": "clerk"})


async def listing(rig: Rig, **params: Any) -> dict[str, Any]:
    r = await rig.http.get("/api/v1/cases", params=params, headers=rig.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def ids(rig: Rig, **params: Any) -> list[str]:
    return [c["appeal_id"] for c in (await listing(rig, **params))["cases"]]


async def every_page(rig: Rig, **params: Any) -> list[str]:
    seen: list[str] = []
    after = None
    for _ in range(20):
        body = await listing(rig, **params, **({"after": after} if after else {}))
        seen += [c["appeal_id"] for c in body["cases"]]
        after = body["next"]
        if after is None:
            return seen
    raise AssertionError("pagination did not end")


async def test_filters(rig: Rig) -> None:
    await seed(rig)
    assert await ids(rig, official_id="deputy-housing") == ["a0", "a2", "a4", "a6", "a8"]
    assert await ids(rig, status="new", official_id="deputy-housing") == ["a4", "a6", "a8"]
    assert await ids(rig, status="in_progress") == ["a2"]
    assert await ids(rig, status="answered") == ["a0"]
    # The inbox's default view: everything not yet answered.
    assert await ids(rig, status="open", official_id="deputy-housing") == ["a2", "a4", "a6", "a8"]
    # Overdue: open and the control date before today (a0 was overdue but is answered).
    assert await ids(rig, status="overdue") == ["a1"]
    assert await ids(rig, due="overdue") == ["a1"]
    # Due soon: control date today to 3 working days ahead (Mon 2 Nov to Thu 5 Nov).
    assert await ids(rig, due="soon") == ["a2", "a3"]
    assert await ids(rig, department="Социальная сфера") == ["a1", "a3", "a5", "a7", "a9"]
    row = (await listing(rig, official_id="deputy-social", limit=1))["cases"][0]
    assert row["appeal_id"] == "a1" and row["overdue"] is True and row["days_left"] == -1
    assert "phone" not in row and "history" not in row  # a list row is not the case page


async def test_sorts_and_keyset_pages(rig: Rig) -> None:
    await seed(rig)
    everything = [f"a{i}" for i in range(10)]
    assert await every_page(rig, limit=3) == everything
    assert await every_page(rig, limit=3, sort="-control_date") == everything[::-1]
    assert await every_page(rig, limit=4, sort="recorded_at") == everything
    assert await every_page(rig, limit=4, sort="-recorded_at") == everything[::-1]
    assert await every_page(rig, limit=2, official_id="deputy-social", sort="-control_date") == [
        "a9",
        "a7",
        "a5",
        "a3",
        "a1",
    ]
    first = await listing(rig, limit=10)
    assert first["next"] is None  # exactly one page: no empty page after it


async def test_ties_on_the_sort_key_are_not_lost_between_pages(rig: Rig) -> None:
    for i in range(7):
        await rig.record(f"t{i}", control_date=date(2026, 11, 16))
    assert await every_page(rig, limit=2) == [f"t{i}" for i in range(7)]
    assert await every_page(rig, limit=3, sort="-control_date") == [f"t{i}" for i in range(7)][::-1]


async def test_ties_are_kept_where_the_cursor_meets_the_filters_own_date_bound(rig: Rig) -> None:
    # A department filter has no composite key: these pages are field queries, and the
    # cursor's bound on the control date meets the overdue list's own (before today) or the
    # due-soon list's (today to Thursday). Today is Mon 2 Nov.
    social = "deputy-social"
    for name, day, count in (("o", 28, 4), ("p", 30, 3)):
        for i in range(count):
            await rig.record(f"{name}{i}", official_id=social, control_date=date(2026, 10, day))
    for i in range(3):
        await rig.record(f"s{i}", official_id=social, control_date=date(2026, 11, 3))
    await rig.record("h0", official_id="deputy-housing", control_date=date(2026, 10, 28))
    department = "Социальная сфера"
    overdue = [f"o{i}" for i in range(4)] + [f"p{i}" for i in range(3)]
    assert await every_page(rig, status="overdue", department=department, limit=2) == overdue
    assert (
        await every_page(
            rig, status="overdue", department=department, limit=3, sort="-control_date"
        )
        == overdue[::-1]
    )
    soon = [f"s{i}" for i in range(3)]
    assert await every_page(rig, due="soon", department=department, limit=2) == soon
    assert (
        await every_page(rig, due="soon", department=department, limit=1, sort="-control_date")
        == soon[::-1]
    )


async def test_cases_recorded_within_one_second_page_in_order(rig: Rig) -> None:
    # A busy centre records several appeals a second; paging by recorded time loses none.
    # Ids do not follow the time (they are random in the field).
    at = datetime(2026, 11, 2, 5, 0, 0, 100000, tzinfo=UTC)
    in_order = [f"q{5 - i}" for i in range(6)]
    for i, appeal_id in enumerate(in_order):
        await rig.record(appeal_id, recorded_at=at + timedelta(milliseconds=150 * i))
    assert await every_page(rig, limit=2, sort="recorded_at") == in_order
    assert await every_page(rig, limit=4, sort="-recorded_at") == in_order[::-1]


async def test_bad_queries_are_422_naming_the_parameter(rig: Rig) -> None:
    for params, field in [
        ({"status": "closed"}, "status"),
        ({"due": "tomorrow"}, "due"),
        ({"sort": "phone"}, "sort"),
        ({"limit": 201}, "limit"),
        ({"limit": 0}, "limit"),
        ({"after": "not-a-cursor"}, "after"),
        ({"after": "WyJ4IiwxXQ"}, "after"),  # valid base64 JSON, wrong shape
    ]:
        r = await rig.http.get("/api/v1/cases", params=params, headers=rig.headers)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["error"]["field"] == field
        assert r.json()["error"]["message"]["ru"]


async def test_internal_paths_refuse_callers_without_the_token(rig: Rig) -> None:
    await rig.record("a1")
    png_headers = {"Content-Type": "image/png"}
    calls = [
        ("GET", "/api/v1/cases", None),
        ("GET", "/api/v1/cases/a1", None),
        ("GET", "/api/v1/cases/stats", None),
        ("POST", "/api/v1/cases/timers/run", None),
        ("POST", "/api/v1/cases/a1/opened", {"by": "x"}),
        ("POST", "/api/v1/cases/a1/forward", {"to_official_id": "akim", "reason": "r", "by": "x"}),
        (
            "POST",
            "/api/v1/cases/a1/extend",
            {"legal_deadline": "2026-12-01", "reason": "r", "by": "x"},
        ),
        ("POST", "/api/v1/directory/officials", {"id": "x"}),
        ("PATCH", "/api/v1/directory/officials/akim", {"active": False}),
        ("GET", "/api/v1/directory/officials/akim/contact", None),
    ]
    for wrong in ({}, {"X-Dialog-Internal": "guess"}):
        for method, path, body in calls:
            r = await rig.http.request(method, path, json=body, headers=wrong)
            assert r.status_code == 403, (method, path, r.text)
        r = await rig.http.put(
            "/api/v1/directory/officials/akim/photo", content=b"x", headers={**wrong, **png_headers}
        )
        assert r.status_code == 403
    case = await rig.case("a1")
    assert case["status"] == "new" and case["official_id"] == "deputy-housing"
    official = (await rig.http.get("/api/v1/directory/officials/akim")).json()
    assert official["active"] is True


async def test_unknown_case_is_404(rig: Rig) -> None:
    r = await rig.http.get("/api/v1/cases/nope", headers=rig.headers)
    assert r.status_code == 404 and r.json()["error"]["code"] == "case_not_found"
    r = await rig.post("/api/v1/cases/nope/opened", {"by": "x"})
    assert r.status_code == 404


async def test_recorded_time_survives_as_a_cursor(rig: Rig) -> None:
    # Cases recorded at the same instant, paged by recorded time: the cursor carries a datetime.
    at = datetime(2026, 11, 2, 5, 0, 0, 123000, tzinfo=UTC)
    for i in range(5):
        await rig.record(f"r{i}", recorded_at=at)
    assert await every_page(rig, limit=2, sort="recorded_at") == [f"r{i}" for i in range(5)]
