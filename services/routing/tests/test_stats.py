"""The control office's figures on a small set counted by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from .conftest import Rig


def at(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, 6, 0, tzinfo=UTC)  # 11:00 in Almaty


async def seed(rig: Rig) -> None:
    cases = [
        # id, official, recorded, answered
        ("s1", "deputy-housing", date(2026, 11, 2), date(2026, 11, 5)),  # 3 days, on time
        ("s2", "deputy-housing", date(2026, 11, 2), date(2026, 11, 20)),  # 18 days, late
        ("s3", "deputy-housing", date(2026, 11, 9), None),
        ("s4", "deputy-social", date(2026, 11, 3), date(2026, 11, 4)),  # 1 day, on time
        ("s5", "deputy-social", date(2026, 10, 20), date(2026, 11, 3)),  # received before
    ]
    for appeal_id, official, recorded, answered in cases:
        await rig.record(
            appeal_id,
            official_id=official,
            recorded_at=at(recorded),
            control_date=recorded + timedelta(days=14),
            legal_deadline=recorded + timedelta(days=21),
        )
        if answered:
            await rig.answer(appeal_id, at(answered), official_id=official)


NOT_RATED = {"rated": 0, "helped": 0, "share_helpful": None}


async def stats(rig: Rig, **params: Any) -> dict[str, Any]:
    r = await rig.http.get("/api/v1/cases/stats", params=params, headers=rig.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_figures_per_official_department_and_week(rig: Rig) -> None:
    await seed(rig)
    body = await stats(rig, **{"from": "2026-11-01", "to": "2026-11-30"})
    assert body["officials"] == [
        {
            "official_id": "deputy-housing",
            "department": "Инфраструктура",
            "received": 3,
            "answered": 2,
            "answered_on_time": 1,
            "median_days_to_answer": 10.5,
            **NOT_RATED,
        },
        {
            "official_id": "deputy-social",
            "department": "Социальная сфера",
            "received": 1,
            "answered": 1,
            "answered_on_time": 1,
            "median_days_to_answer": 1,
            **NOT_RATED,
        },
    ]
    assert [(d["department"], d["received"], d["answered"]) for d in body["departments"]] == [
        ("Инфраструктура", 3, 2),
        ("Социальная сфера", 1, 1),
    ]
    # 1 Nov 2026 is a Sunday (W44); s5 was received in October but answered in W45.
    assert body["weekly"] == [
        {"week": "2026-W44", "received": 0, "answered": 0},
        {"week": "2026-W45", "received": 3, "answered": 3},
        {"week": "2026-W46", "received": 1, "answered": 0},
        {"week": "2026-W47", "received": 0, "answered": 1},
        {"week": "2026-W48", "received": 0, "answered": 0},
        {"week": "2026-W49", "received": 0, "answered": 0},
    ]


async def test_department_filter_and_bad_ranges(rig: Rig) -> None:
    await seed(rig)
    body = await stats(
        rig, **{"from": "2026-11-01", "to": "2026-11-30", "department": "Социальная сфера"}
    )
    assert [o["official_id"] for o in body["officials"]] == ["deputy-social"]
    for params, field in [
        ({"from": "2026-12-01", "to": "2026-11-01"}, "from"),
        ({"from": "1 Nov"}, "from"),
        ({"to": "2026-02-30"}, "to"),
        ({"from": "0001-01-01", "to": "9999-12-31"}, "from"),
    ]:
        r = await rig.http.get("/api/v1/cases/stats", params=params, headers=rig.headers)
        assert r.status_code == 422 and r.json()["error"]["field"] == field, (params, r.text)
