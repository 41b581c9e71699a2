"""A "did not help" reaches the official's supervisor and the control office, each in a list of
their own with the reason; a new answer asked for or a confirmation reaches the citizen (one SMS,
and the look-up shows it); each decision is in the audit log and the case's timeline."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from dialog_platform.calendar import add_working_days, local_date
from dialog_platform.testing import dashboard

from .conftest import (
    PASSWORD,
    Appeal,
    Browser,
    Dialog,
    eventually,
    internal,
    logged_in,
    make_appeal,
)

FIRST = "Уважаемая Айгуль! Ремонт запланирован на май."
CITIZEN_NEWS = ("answer_posted", "follow_up_requested", "answer_confirmed")
SECOND = "Уважаемая Айгуль! Свет во дворе починят 12 мая, подрядчик назначен."


def keys(appeal: Appeal) -> dict[str, str]:
    return {"registration_number": appeal.registration_number, "access_code": appeal.access_code}


async def answered_and_rated_no(
    dialog: Dialog, http: httpx.AsyncClient, video: Path, official: str, **rating: Any
) -> Appeal:
    appeal = await make_appeal(dialog, http, video, language="ru")
    await dashboard.answer(
        dialog.url, login=official, password=PASSWORD, appeal_id=appeal.appeal_id, text=FIRST
    )

    async def answer_shown() -> bool:
        found = await http.post(f"{dialog.url}/api/v1/answers/lookup", json=keys(appeal))
        return bool(found.json().get("answer"))

    await eventually(answer_shown)
    rated = await http.post(
        f"{dialog.url}/api/v1/answers/rating",
        json={**keys(appeal), "helped": False, "reason": "unclear", **rating},
    )
    assert rated.status_code == 200, rated.text
    return appeal


async def purposes(dialog: Dialog, http: httpx.AsyncClient, appeal_id: str) -> list[str]:
    found = await http.get(
        f"{dialog.url}/api/v1/notifications", params={"appeal_id": appeal_id}, headers=internal()
    )
    return sorted(n["purpose"] for n in found.json()["notifications"])


async def test_a_follow_up_brings_a_new_answer_to_the_citizen(
    dialog: Dialog,
    browser: Callable[[], Browser],
    http: httpx.AsyncClient,
    videos: dict[str, Path],
) -> None:
    official = dialog.user("dispute-housing", "official", "deputy-housing")
    supervisor = dialog.user("dispute-akim", "official", "akim")
    other = dialog.user("dispute-social", "official", "deputy-social")
    control = dialog.user("dispute-control", "controller")
    appeal = await answered_and_rated_no(
        dialog, http, videos["appeal"], official, comment="Когда именно?"
    )

    # In the supervisor's list and the control office's, with the reason; in no one else's.
    akim = await logged_in(browser, supervisor)

    async def listed() -> bool:
        page = await akim.get("/dashboard/disputed")
        return appeal.registration_number in page.text

    await eventually(listed)
    assert "Жауап түсініксіз" in akim.last and "Когда именно?" in akim.last
    assert FIRST in akim.last  # the answer the citizen rated
    social = await logged_in(browser, other)
    assert appeal.registration_number not in (await social.get("/dashboard/disputed")).text
    office = await logged_in(browser, control)
    assert appeal.registration_number in (await office.get("/dashboard/disputed")).text
    # A supervisor cannot decide on a case outside their list.
    refused = await social.post(f"/dashboard/disputed/{appeal.appeal_id}/follow-up", {})
    assert refused.status_code == 404

    asked = await office.post(
        f"/dashboard/disputed/{appeal.appeal_id}/follow-up", {"note": "Назовите дату ремонта"}
    )
    assert asked.status_code == 303, asked.text
    page = await office.get(asked.headers["location"])
    assert appeal.registration_number not in page.text and 'id="done"' in page.text
    case = await dialog.case(http, appeal.appeal_id)
    asked_at = datetime.fromisoformat(case["history"][-1]["at"])
    due = add_working_days(local_date(asked_at), 10)
    assert case["status"] == "in_progress" and case["control_date"] == due.isoformat()
    assert case["history"][-1]["what"] == "follow_up_requested"
    [entry] = await dialog.audit(action="follow_up", appeal_id=appeal.appeal_id)
    assert entry["login"] == control and entry["detail"]["reason"] == "unclear"

    # The citizen sees it, the official answers anew (not a correction).
    seen = (await http.post(f"{dialog.url}/api/v1/answers/lookup", json=keys(appeal))).json()
    assert seen["follow_up"] == {
        "state": "follow_up",
        "control_date": due.isoformat(),
        "note": None,
    }
    posted = await dashboard.answer(
        dialog.url, login=official, password=PASSWORD, appeal_id=appeal.appeal_id, text=SECOND
    )
    assert posted.corrects is None

    async def new_answer_shown() -> Any:
        found = await http.post(f"{dialog.url}/api/v1/answers/lookup", json=keys(appeal))
        body = found.json()
        return body if (body.get("answer") or {}).get("text") == SECOND else None

    shown = await eventually(new_answer_shown)
    assert shown["rating"] is None and shown["follow_up"] is None  # the new answer is unrated

    async def told() -> list[str] | None:
        found = await purposes(dialog, http, appeal.appeal_id)
        return found if found.count("answer_posted") == 2 else None

    told_citizen = [p for p in await eventually(told) if p in CITIZEN_NEWS]
    assert told_citizen == ["answer_posted", "answer_posted", "follow_up_requested"]
    assert (await purposes(dialog, http, appeal.appeal_id)).count("follow_up_official") == 1
    history = [h["what"] for h in (await dialog.case(http, appeal.appeal_id))["history"]]
    assert history[-3:] == ["rated_not_helpful", "follow_up_requested", "answered"]


async def test_a_confirmation_reaches_the_citizen_with_its_note(
    dialog: Dialog,
    browser: Callable[[], Browser],
    http: httpx.AsyncClient,
    videos: dict[str, Path],
) -> None:
    official = dialog.user("dispute-housing", "official", "deputy-housing")
    supervisor = dialog.user("dispute-akim", "official", "akim")
    comment = "Свет во дворе так и не починили"
    appeal = await answered_and_rated_no(dialog, http, videos["appeal"], official, comment=comment)
    akim = await logged_in(browser, supervisor)

    async def listed() -> bool:
        return appeal.registration_number in (await akim.get("/dashboard/disputed")).text

    await eventually(listed)
    empty = await akim.post(f"/dashboard/disputed/{appeal.appeal_id}/confirm", {"note": " "})
    assert empty.status_code == 422
    assert "түсініктеме жазыңыз" in empty.text  # the page says what is missing, in its language
    assert appeal.registration_number in (await akim.get("/dashboard/disputed")).text
    note = "Ремонт включён в план на май, точную дату назовёт подрядчик."
    done = await akim.post(f"/dashboard/disputed/{appeal.appeal_id}/confirm", {"note": note})
    assert done.status_code == 303, done.text
    again = await akim.post(f"/dashboard/disputed/{appeal.appeal_id}/confirm", {"note": note})
    assert again.status_code == 404  # settled: no longer in the list

    seen = (await http.post(f"{dialog.url}/api/v1/answers/lookup", json=keys(appeal))).json()
    assert seen["follow_up"] == {"state": "confirmed", "control_date": None, "note": note}
    assert seen["answer"]["text"] == FIRST

    async def told() -> list[str] | None:
        found = await purposes(dialog, http, appeal.appeal_id)
        return found if "answer_confirmed" in found else None

    assert (await eventually(told)).count("answer_confirmed") == 1
    [entry] = await dialog.audit(action="answer_confirm", appeal_id=appeal.appeal_id)
    assert entry["login"] == supervisor and entry["detail"]["note"] == note
    # The citizen's rating is in the audit log too, without their comment.
    [rating] = await dialog.audit(action="answer_rated", appeal_id=appeal.appeal_id)
    assert rating["detail"] == {"helped": False, "reason": "unclear"}
    assert rating["login"] is None and comment not in str(rating)
    case_page = await (await logged_in(browser, official)).get(
        f"/dashboard/cases/{appeal.appeal_id}"
    )
    assert 'id="dispute"' in case_page.text and note in case_page.text
    # The timeline names the citizen's reason in words, not by its code.
    assert "<q>unclear</q>" not in case_page.text and "Жауап түсініксіз</span>" in case_page.text


async def test_the_share_rated_helpful_in_the_statistics_its_csv_and_chart(
    dialog: Dialog,
    browser: Callable[[], Browser],
    http: httpx.AsyncClient,
    videos: dict[str, Path],
) -> None:
    official = dialog.user("stats-economy", "official", "deputy-economy")
    control = dialog.user("dispute-control", "controller")
    appeals = [
        await make_appeal(dialog, http, videos["appeal"], official_id="deputy-economy")
        for _ in range(3)
    ]
    for appeal, helped in zip(appeals[:2], (True, False), strict=True):
        await dashboard.answer(
            dialog.url, login=official, password=PASSWORD, appeal_id=appeal.appeal_id, text=FIRST
        )

        async def rated(appeal: Appeal = appeal, helped: bool = helped) -> bool:
            body = {**keys(appeal), "helped": helped, "reason": None if helped else "late"}
            found = await http.post(f"{dialog.url}/api/v1/answers/rating", json=body)
            return found.status_code == 200  # 409 until the answer reached the gateway

        await eventually(rated)

    office = await logged_in(browser, control)

    async def counted() -> str | None:
        page = await office.get("/dashboard/control/stats")
        row = re.search(r'<tr data-row="deputy-economy">(.*?)</tr>', page.text, re.S)
        return row.group(1) if row and "50%" in row.group(1) else None

    row = await eventually(counted)
    assert "(1/2)" in row and '<td class="num">3</td>' in row  # 3 received, 2 answered
    assert "50% (2)" in office.last.split('id="helpful-chart"')[1]
    exported = await office.get("/dashboard/control/stats.csv")
    assert exported.status_code == 200 and exported.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(exported.content[3:].decode("utf-8"))))
    assert table[0][-1] == "«Көмектесті» үлесі"
    [economy] = [r for r in table if r[1] == "Ерлан Қайратұлы Нұрғалиев"]
    assert economy[0] == "Лауазымды тұлға"
    assert economy[2:] == ["3", "2", "2", economy[5], "2", "1", "0.5"]
