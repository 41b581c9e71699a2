"""The open figures (/open) on a set counted by hand: routing computes them from the cases,
kiosk-gateway's copy serves the page and downloads from its own database, routing down or not.

The gateway's part is built here on routing's real app (its ASGI transport) so the figures can be
checked against routing's own statistics of the same cases; a second copy, as a restarted gateway
with routing unreachable, serves what the first one saved.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from dialog_contracts import AnswerRated
from dialog_platform.net import free_port
from kiosk_gateway.open_figures import COLUMNS, OpenFiguresCopy
from kiosk_gateway.pages.open_figures import build_open_router

from .conftest import Rig

HOUSING_2 = {
    "id": "housing-2",
    "full_name": {"kk": "Тест Тестұлы Екінші", "ru": "Тест Тестович Второй"},
    "position": {"kk": "Бөлім басшысы", "ru": "Руководитель отдела"},
    "competence": {"kk": "Жолдар", "ru": "Дороги"},
    "department": {"kk": "Инфрақұрылым", "ru": "Инфраструктура"},
}
PHONE = "+77017654321"


def at(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, 6, 0, tzinfo=UTC)


async def seed(rig: Rig) -> list[str]:
    """November 2026: housing 7 (3 on time, 2 late, 2 open), housing-2 3 (1 on time, 1 late,
    1 open), social 6 (4 on time, 1 late, 1 open)."""
    r = await rig.post("/api/v1/directory/officials", HOUSING_2)
    assert r.status_code == 201, r.text
    nov = date(2026, 11, 2)
    plan: list[tuple[str, int | None]] = (
        [("deputy-housing", d) for d in (1, 2, 3, 18, 20, None, None)]
        + [("housing-2", d) for d in (1, 30, None)]
        + [("deputy-social", d) for d in (1, 1, 4, 5, 15, None)]
    )
    numbers = []
    # The citizens' ratings of the answers: social 4 of 5 helped; housing 3 of 5, housing-2
    # 1 of 2 (their department 4 of 7).
    helped = {0: True, 1: True, 2: True, 3: False, 4: False, 7: True, 8: False}
    helped |= {10: True, 11: True, 12: True, 13: True, 14: False}
    for i, (official, days) in enumerate(plan):
        appeal_id = f"open-{i}"
        await rig.record(
            appeal_id,
            official_id=official,
            phone=PHONE,
            recorded_at=at(nov),
            control_date=nov + timedelta(days=14),
            legal_deadline=nov + timedelta(days=21),
        )
        numbers.append(f"2026-{appeal_id}")
        if days is not None:
            answered = at(nov + timedelta(days=days))
            await rig.answer(appeal_id, answered, official_id=official)
            await rig.publish(
                AnswerRated(
                    appeal_id=appeal_id,
                    registration_number=f"2026-{appeal_id}",
                    official_id=official,
                    language="ru",
                    helped=helped[i],
                    reason=None if helped[i] else "unclear",
                    answered_at=answered,
                    rated_at=answered + timedelta(hours=3),
                )
            )
    return numbers


def row(rows: list[dict[str, Any]], month: str, **match: Any) -> dict[str, Any]:
    [found] = [r for r in rows if r["month"] == month and all(r[k] == v for k, v in match.items())]
    return found


async def test_open_figures_match_the_cases_hide_small_cells_and_survive_routing_down(
    rig: Rig, mongo: Any, db_prefix: str
) -> None:
    numbers = await seed(rig)
    rig.clock.set(at(date(2026, 12, 3)))
    stats = (
        await rig.http.get(
            "/api/v1/cases/stats", params={"from": "2026-11-01", "to": "2026-11-30"},
            headers=rig.headers,
        )
    ).json()  # fmt: skip
    db = mongo[f"{db_prefix}_kiosk_gateway"]
    copy = OpenFiguresCopy(
        db=db, http=rig.http, routing_url="http://routing", headers=rig.headers, interval_s=600
    )
    await copy.refresh()
    assert copy.data is not None
    app = _app(copy)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as web:
        data = (await web.get("/open/data.json")).json()
        rows = data["rows"]
        assert data["months"][0] == "2026-01" and data["months"][-1] == "2026-12"
        assert data["licence"]["name"] == "CC BY 4.0" and data["columns"] == list(COLUMNS)

        # Social: 6 received, one official; the same as the control office's statistics.
        [social] = [o for o in stats["officials"] if o["official_id"] == "deputy-social"]
        for level in ("department", "official"):
            r = row(rows, "2026-11", level=level, department_ru="Социальная сфера")
            assert {k: r[k] for k in ("received", "answered", "answered_on_time")} == {
                "received": 6, "answered": 5, "answered_on_time": 4,
            }  # fmt: skip
            assert r["median_days_to_answer"] == social["median_days_to_answer"] == 4
            assert r["share_helpful"] == social["share_helpful"] == 0.8
            assert r["suppressed"] is False
        # Infrastructure: 10 in all is shown; housing-2's 3 are hidden, and so is housing's 7,
        # or 10 - 7 would give housing-2's figures back.
        [infra] = [d for d in stats["departments"] if d["department"] == "Инфраструктура"]
        dept = row(rows, "2026-11", level="department", department_ru="Инфраструктура")
        assert (dept["received"], dept["answered"], dept["answered_on_time"]) == (10, 7, 4)
        assert dept["median_days_to_answer"] == infra["median_days_to_answer"]
        assert dept["department_kk"] == "Инфрақұрылым"
        assert dept["share_helpful"] == infra["share_helpful"] == round(4 / 7, 3)
        [housing] = [o for o in stats["officials"] if o["official_id"] == "deputy-housing"]
        assert (housing["rated"], housing["helped"], housing["share_helpful"]) == (5, 3, 0.6)
        for official in ("deputy-housing", "housing-2"):
            r = row(rows, "2026-11", official_id=official)
            assert r["suppressed"] is True
            assert [r[k] for k in ("received", "answered", "answered_on_time")] == [
                "<5",
                None,
                None,
            ]
            assert r["median_days_to_answer"] is None and r["share_helpful"] is None
        assert row(rows, "2026-11", official_id="housing-2")["name_ru"] == "Тест Тестович Второй"
        # A quiet month and a quiet official are "<5" too, not missing.
        assert row(rows, "2026-10", official_id="deputy-economy")["suppressed"] is True

        page = await web.get("/open", params={"lang": "ru", "month": "2026-11"})
        assert page.status_code == 200 and 'lang="ru"' in page.text
        assert "Тест Тестович Второй" in page.text and "&lt;5" in page.text
        assert "<td>10</td><td>7</td><td>4</td>" in page.text
        assert "<td>6</td><td>5</td><td>4</td><td>4</td><td>80%</td>" in page.text
        assert "<td>57%</td>" in page.text and "при меньше чем 5 оценках" in page.text
        kk = await web.get("/open", params={"month": "2026-11"})
        assert 'lang="kk"' in kk.text and "5-тен аз баға болса" in kk.text
        raw = (await web.get("/open/data.csv")).content
        assert raw.startswith(b"\xef\xbb\xbf")
        table = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
        assert list(table[0]) == list(COLUMNS) and len(table) == len(rows)
        csv_dept = next(
            r for r in table
            if r["month"] == "2026-11" and r["level"] == "department"
            and r["department_ru"] == "Инфраструктура"
        )  # fmt: skip
        assert (csv_dept["received"], csv_dept["suppressed"]) == ("10", "false")
        assert csv_dept["share_helpful"] == "0.571"
        csv_small = next(
            r for r in table if r["month"] == "2026-11" and r["official_id"] == "housing-2"
        )
        assert (csv_small["received"], csv_small["answered"], csv_small["suppressed"]) == (
            "<5", "", "true",
        )  # fmt: skip
        readme = await web.get("/open/README", params={"lang": "kk"})
        assert "share_helpful" in readme.text and "CC BY 4.0" in readme.text

        # Nothing of a citizen anywhere: no phone, registration number or appeal id.
        everything = page.text + kk.text + raw.decode("utf-8") + json.dumps(data)
        for secret in [PHONE, PHONE[1:], *numbers, "open-0", "booth-1"]:
            assert secret not in everything, secret

        # Cached: the same bytes with an ETag, 304 when the browser has them.
        again = await web.get("/open", params={"lang": "ru", "month": "2026-11"})
        assert again.headers["etag"] == page.headers["etag"]
        assert "max-age" in page.headers["cache-control"]
        same = await web.get(
            "/open", params={"lang": "ru", "month": "2026-11"},
            headers={"If-None-Match": page.headers["etag"]},
        )  # fmt: skip
        assert same.status_code == 304
        bad = await web.get("/open", params={"lang": "en"})
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "lang"
        assert bad.json()["error"]["message"]["kk"]

    # A restarted gateway with routing unreachable serves the copy it saved.
    async with httpx.AsyncClient() as out:
        down = OpenFiguresCopy(
            db=db,
            http=out,
            routing_url=f"http://127.0.0.1:{free_port()}",
            headers=rig.headers,
            interval_s=600,
        )
        await down.refresh()
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=_app(down)), base_url="http://gateway"
        ) as web:
            served = await web.get("/open", params={"lang": "ru", "month": "2026-11"})
            assert served.status_code == 200
            assert served.headers["etag"] == page.headers["etag"]
            assert (await web.get("/open/data.json")).json()["rows"] == rows


def _app(copy: OpenFiguresCopy) -> Any:
    from dialog_platform.errors import DialogApp, install_error_handlers

    app = DialogApp()
    install_error_handlers(app)
    app.include_router(build_open_router(copy, development=True))
    return app


def test_a_cell_with_fewer_than_5_ratings_shows_no_share() -> None:
    from routing.open_figures import _cell

    cases = [
        {"recorded_date": "2026-11-02", "control_date": "2026-11-16",
         "answered_date": "2026-11-03", "rating": {"helped": True}}
        for _ in range(4)
    ] + [{"recorded_date": "2026-11-02", "control_date": "2026-11-16"}]  # fmt: skip
    cell = _cell(cases)
    assert (cell["received"], cell["suppressed"], cell["share_helpful"]) == (5, False, None)
    assert "rated" not in cell and "helped" not in cell  # only the share leaves routing
    cell = _cell([*cases[:4], {**cases[0]}])
    assert cell["share_helpful"] == 1.0
