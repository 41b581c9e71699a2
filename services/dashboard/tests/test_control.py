"""The control office: all cases, forward and extend, statistics, CSV, the overdue list."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import httpx

from dialog_platform.testing import dashboard

from .conftest import PASSWORD, Browser, Dialog, eventually, internal, logged_in, make_appeal


def parse_csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "no BOM: Excel would garble Cyrillic"
    return list(csv.reader(io.StringIO(body[3:].decode("utf-8"))))


async def test_control_office_lists_forwards_extends_and_exports(
    dialog: Dialog,
    browser: Callable[[], Browser],
    http: httpx.AsyncClient,
    videos: dict[str, Path],
) -> None:
    control = dialog.user("control-office", "controller")
    housing = await make_appeal(dialog, http, videos["appeal"])
    social = await make_appeal(dialog, http, videos["appeal"], official_id="deputy-social")
    b = await logged_in(browser, control)

    everything = await b.get("/dashboard/control")
    assert everything.status_code == 200
    assert housing.registration_number in everything.text
    assert social.registration_number in everything.text
    mine = await b.get("/dashboard/control", params={"official_id": "deputy-housing"})
    assert housing.registration_number in mine.text
    assert social.registration_number not in mine.text

    # CSV of the list shown: same filter, a header row, UTF-8 with BOM.
    exported = await b.get(
        "/dashboard/control/export.csv", params={"official_id": "deputy-housing"}
    )
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = parse_csv(exported.content)
    assert rows[0][0] == "Тіркеу нөмірі" and "Бақылау мерзімі" in rows[0]
    numbers = [r[0] for r in rows[1:]]
    assert housing.registration_number in numbers and social.registration_number not in numbers
    row = next(r for r in rows[1:] if r[0] == housing.registration_number)
    assert row[1] == "deputy-housing" and row[3] == "Жаңа"
    await b.get("/dashboard/lang/ru")
    ru = parse_csv((await b.get("/dashboard/control/export.csv")).content)
    assert ru[0][0] == "Рег. номер"

    # Forward the social case: outside that official's competence.
    page = await b.get(f"/dashboard/cases/{social.appeal_id}")
    assert page.status_code == 200 and 'id="forward-form"' in page.text
    no_reason = await b.post(
        f"/dashboard/cases/{social.appeal_id}/forward", {"to_official_id": "deputy-economy"}
    )
    assert no_reason.status_code == 422 and "Укажите причину" in no_reason.text
    same = await b.post(
        f"/dashboard/cases/{social.appeal_id}/forward",
        {"to_official_id": "deputy-social", "reason": "тест"},
    )
    assert same.status_code == 422
    forwarded = await b.post(
        f"/dashboard/cases/{social.appeal_id}/forward",
        {"to_official_id": "deputy-economy", "reason": "Вопрос экономики, не соцсферы"},
    )
    assert forwarded.status_code == 303, forwarded.text
    case = await dialog.case(http, social.appeal_id)
    assert case["official_id"] == "deputy-economy"
    assert case["addressed_official_id"] == "deputy-social"
    step = next(h for h in case["history"] if h["what"] == "forwarded")
    assert step["by"] == control and step["reason"] == "Вопрос экономики, не соцсферы"
    [entry] = await dialog.audit(action="forward", appeal_id=social.appeal_id)
    assert entry["login"] == control and entry["detail"]["to"] == "deputy-economy"

    # Extend the housing case: a later legal deadline, with a reason.
    legal = date.fromisoformat((await dialog.case(http, housing.appeal_id))["legal_deadline"])
    earlier = await b.post(
        f"/dashboard/cases/{housing.appeal_id}/extend",
        {"legal_deadline": (legal - timedelta(days=1)).isoformat(), "reason": "тест"},
    )
    assert earlier.status_code == 422
    bad_date = await b.post(
        f"/dashboard/cases/{housing.appeal_id}/extend",
        {"legal_deadline": "31.12.2026", "reason": "тест"},
    )
    assert bad_date.status_code == 422 and "legal_deadline" in bad_date.text
    new_legal = legal + timedelta(days=10)
    extended = await b.post(
        f"/dashboard/cases/{housing.appeal_id}/extend",
        {"legal_deadline": new_legal.isoformat(), "reason": "Нужен выезд комиссии"},
    )
    assert extended.status_code == 303, extended.text
    case = await dialog.case(http, housing.appeal_id)
    assert case["legal_deadline"] == new_legal.isoformat()
    assert any(h["what"] == "extended" and h["by"] == control for h in case["history"])
    assert len(await dialog.audit(action="extend", appeal_id=housing.appeal_id)) == 1
    timeline = await b.get(f"/dashboard/cases/{housing.appeal_id}")
    assert "Срок продлён" in timeline.text and "Нужен выезд комиссии" in timeline.text


async def test_statistics_per_official_and_department_with_a_weekly_chart(
    dialog: Dialog,
    browser: Callable[[], Browser],
    http: httpx.AsyncClient,
    videos: dict[str, Path],
) -> None:
    control = dialog.user("control-office", "controller")
    official = dialog.user("security", "official", "deputy-security")
    appeal = await make_appeal(dialog, http, videos["appeal"], official_id="deputy-security")
    await dashboard.answer(
        dialog.url, login=official, password=PASSWORD, appeal_id=appeal.appeal_id, text="Жауап."
    )

    async def routing_counted() -> bool:
        r = await http.get(f"{dialog.url}/api/v1/cases/stats", headers=internal())
        rows = r.json()["officials"]
        return any(o["official_id"] == "deputy-security" and o["answered"] for o in rows)

    await eventually(routing_counted)
    b = await logged_in(browser, control)
    page = await b.get("/dashboard/control/stats")
    assert page.status_code == 200
    assert "<svg" in page.text and 'class="bar-received"' in page.text
    assert 'class="bar-answered"' in page.text
    # The security deputy's row: received 1, answered 1, on time 1, median 0 days.
    found = re.search(r'<tr data-row="deputy-security">(.*?)</tr>', page.text, re.S)
    assert found, "no row for deputy-security"
    cells = re.findall(r'class="num">([^<]*)<', found.group(1))
    assert cells == ["1", "1", "1", "0"]
    assert "Динара Әскерқызы Төлеубекова" in found.group(1)  # the name, not the id
    bad = await b.get("/dashboard/control/stats", params={"from": "2026-02-30"})
    assert bad.status_code == 422 and "from" in bad.text


async def test_overdue_list_after_the_control_date_passes(
    dialog: Dialog,
    browser: Callable[[], Browser],
    http: httpx.AsyncClient,
    videos: dict[str, Path],
) -> None:
    control = dialog.user("control-office", "controller")
    appeal = await make_appeal(dialog, http, videos["appeal"], official_id="akim")
    b = await logged_in(browser, control)
    overdue = await b.get("/dashboard/control", params={"due": "overdue"})
    assert appeal.registration_number not in overdue.text

    dialog.runner.move_clock(timedelta(days=16))
    fired = await http.post(f"{dialog.url}/api/v1/cases/timers/run", headers=internal())
    assert fired.status_code == 200
    # Sixteen days later the session has long expired: log in again.
    b = await logged_in(browser, control)
    overdue = await b.get("/dashboard/control", params={"due": "overdue"})
    assert appeal.registration_number in overdue.text
    assert "күн кешікті" in overdue.text
    rows = parse_csv((await b.get("/dashboard/control/export.csv?due=overdue")).content)
    row = next(r for r in rows[1:] if r[0] == appeal.registration_number)
    assert row[10] == "иә" and int(row[9]) < 0
    page = await b.get(f"/dashboard/cases/{appeal.appeal_id}")
    assert 'id="redirect-warning"' in page.text
