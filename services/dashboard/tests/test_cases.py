"""An official's round: inbox, the case page with its video and masked phone, answering."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx

from .conftest import Browser, Dialog, eventually, internal, logged_in, make_appeal


def video_src(page: str) -> str:
    found = re.search(r'<video id="appeal-video"[^>]* src="([^"]+)"', page)
    assert found, "no appeal video on the page"
    return found.group(1).replace("&amp;", "&")


async def test_inbox_lists_the_officials_cases_and_polls_for_new_ones(
    dialog: Dialog,
    browser: Callable[[], Browser],
    http: httpx.AsyncClient,
    videos: dict[str, Path],
) -> None:
    login = dialog.user("housing", "official", "deputy-housing")
    b = await logged_in(browser, login)
    before = (await b.get("/dashboard/inbox.json")).json()

    appeal = await make_appeal(dialog, http, videos["appeal"])
    other = await make_appeal(dialog, http, videos["appeal"], official_id="deputy-social")

    inbox = await b.get("/dashboard/inbox")
    assert inbox.status_code == 200
    assert appeal.registration_number in inbox.text
    assert other.registration_number not in inbox.text
    assert "Жаңа" in inbox.text  # status "new"
    assert "күн қалды" in inbox.text  # days left

    polled = (await b.get("/dashboard/inbox.json")).json()
    assert appeal.appeal_id in polled["ids"] and appeal.appeal_id not in before["ids"]
    assert other.appeal_id not in polled["ids"]
    assert appeal.registration_number in polled["html"]

    # Filters: a new case is not among the answered ones; bad filter values are named.
    answered = await b.get("/dashboard/inbox", params={"status": "answered"})
    assert appeal.registration_number not in answered.text
    bad = await b.get("/dashboard/inbox.json", params={"sort": "phone"})
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "sort"
    assert bad.json()["error"]["message"]["kk"] and bad.json()["error"]["message"]["ru"]


async def test_case_page_plays_the_video_with_ranges_and_audits_the_view(
    dialog: Dialog,
    browser: Callable[[], Browser],
    http: httpx.AsyncClient,
    videos: dict[str, Path],
) -> None:
    login = dialog.user("housing", "official", "deputy-housing")
    appeal = await make_appeal(dialog, http, videos["appeal"])
    b = await logged_in(browser, login)

    page = await b.get(f"/dashboard/cases/{appeal.appeal_id}")
    assert page.status_code == 200
    assert appeal.registration_number in page.text
    src = video_src(page.text)
    url = src if src.startswith("http") else f"{dialog.url}{src}"
    part = await http.get(url, headers={"Range": "bytes=200-1199"})
    assert part.status_code == 206
    assert part.content == appeal.video[200:1200]

    [view] = await dialog.audit(action="video_view", appeal_id=appeal.appeal_id, login=login)
    assert view["detail"]["video"] == "appeal"

    # Opening the case told routing: it is in progress now, by this login.
    case = await dialog.case(http, appeal.appeal_id)
    assert case["status"] == "in_progress"
    assert any(h["what"] == "opened" and h["by"] == login for h in case["history"])
    assert "Қаралуда" in (await b.get(f"/dashboard/cases/{appeal.appeal_id}")).text


async def test_phone_is_masked_until_revealed_and_the_reveal_is_audited(
    dialog: Dialog,
    browser: Callable[[], Browser],
    http: httpx.AsyncClient,
    videos: dict[str, Path],
) -> None:
    login = dialog.user("housing", "official", "deputy-housing")
    appeal = await make_appeal(dialog, http, videos["appeal"], phone="+7 701 234 56 78")
    b = await logged_in(browser, login)
    page = await b.get(f"/dashboard/cases/{appeal.appeal_id}")
    assert "+7 701 *** ** 78" in page.text
    assert "234 56" not in page.text and "77012345678" not in page.text
    assert not await dialog.audit(action="phone_reveal", appeal_id=appeal.appeal_id)

    shown = await b.post(f"/dashboard/cases/{appeal.appeal_id}/phone")
    assert shown.status_code == 200
    assert "+7 701 234 56 78" in shown.text
    [entry] = await dialog.audit(action="phone_reveal", appeal_id=appeal.appeal_id)
    assert entry["login"] == login and entry["at"]


async def test_answer_with_text_and_video_reaches_routing_and_the_citizen(
    dialog: Dialog,
    browser: Callable[[], Browser],
    http: httpx.AsyncClient,
    videos: dict[str, Path],
) -> None:
    login = dialog.user("housing", "official", "deputy-housing")
    appeal = await make_appeal(dialog, http, videos["appeal"], language="ru")
    b = await logged_in(browser, login)
    page = await b.get(f"/dashboard/cases/{appeal.appeal_id}")
    # The page says which language the answer is due in (the appeal's).
    assert "Жауап өтініш тілінде берілуі тиіс: орыс тілі" in page.text
    csrf = b.csrf()

    # The video answer is streamed in as a raw body with the CSRF token in a header.
    no_token = await b.client.post(
        f"/dashboard/cases/{appeal.appeal_id}/video",
        content=videos["answer"].read_bytes(),
        headers={"Content-Type": "video/webm"},
    )
    assert no_token.status_code == 403
    not_video = await b.client.post(
        f"/dashboard/cases/{appeal.appeal_id}/video",
        content=b"GIF89a" + b"\0" * 5000,
        headers={"Content-Type": "video/webm", "X-CSRF-Token": csrf},
    )
    assert not_video.status_code == 415
    assert not_video.json()["error"]["message"]["ru"]
    uploaded = await b.client.post(
        f"/dashboard/cases/{appeal.appeal_id}/video",
        content=videos["answer"].read_bytes(),
        headers={"Content-Type": "video/webm", "X-CSRF-Token": csrf},
    )
    assert uploaded.status_code == 201, uploaded.text
    key = uploaded.json()["key"]
    assert key.startswith(f"answers/{appeal.appeal_id}/") and 2 < uploaded.json()["duration_s"] < 4

    empty = await b.post(f"/dashboard/cases/{appeal.appeal_id}/answer", {"text": "   "})
    assert empty.status_code == 422 and "Напишите текст ответа" not in empty.text
    assert "Жауап мәтінін жазыңыз" in empty.text
    assert (await dialog.internal_answers(http, appeal.appeal_id)).status_code == 404

    text = "Уважаемая Айгуль! Ремонт подъезда включён в план на май."
    posted = await b.post(
        f"/dashboard/cases/{appeal.appeal_id}/answer", {"text": text, "video_key": key}
    )
    assert posted.status_code == 303, posted.text

    answers = (await dialog.internal_answers(http, appeal.appeal_id)).json()["answers"]
    assert len(answers) == 1
    assert answers[0]["text"] == text and answers[0]["video_key"] == key
    assert answers[0]["language"] == "ru" and answers[0]["official_id"] == "deputy-housing"
    assert answers[0]["corrects"] is None

    # AnswerPosted went out: routing marks the case answered, the citizen's look-up shows it.
    async def answered() -> bool:
        return (await dialog.case(http, appeal.appeal_id))["status"] == "answered"

    await eventually(answered)

    async def citizen_sees() -> dict[str, object] | None:
        r = await http.post(
            f"{dialog.url}/api/v1/answers/lookup",
            json={
                "registration_number": appeal.registration_number,
                "access_code": appeal.access_code,
            },
        )
        body = r.json()
        return body if r.status_code == 200 and body.get("answer") else None

    found = await eventually(citizen_sees)
    assert found["answer"]["text"] == text  # type: ignore[index]
    assert found["answer"]["video_url"]  # type: ignore[index]

    [entry] = await dialog.audit(action="answer", appeal_id=appeal.appeal_id)
    assert entry["login"] == login and entry["detail"]["video"] is True
    # The same video cannot be attached twice.
    reuse = await b.post(
        f"/dashboard/cases/{appeal.appeal_id}/answer",
        {"text": "x", "video_key": key, "corrects": answers[0]["id"]},
    )
    assert reuse.status_code == 422


async def test_answered_case_is_read_only_and_a_correction_keeps_the_old_answer(
    dialog: Dialog,
    browser: Callable[[], Browser],
    http: httpx.AsyncClient,
    videos: dict[str, Path],
) -> None:
    login = dialog.user("housing", "official", "deputy-housing")
    appeal = await make_appeal(dialog, http, videos["appeal"])
    b = await logged_in(browser, login)
    await b.get(f"/dashboard/cases/{appeal.appeal_id}")
    first = await b.post(
        f"/dashboard/cases/{appeal.appeal_id}/answer", {"text": "Құрметті Айгүл! Жауап."}
    )
    assert first.status_code == 303

    page = await b.get(f"/dashboard/cases/{appeal.appeal_id}")
    assert "Жауапты түзету" in page.text  # only a correction is offered now
    again = await b.post(f"/dashboard/cases/{appeal.appeal_id}/answer", {"text": "Екінші"})
    assert again.status_code == 409
    [only] = (await dialog.internal_answers(http, appeal.appeal_id)).json()["answers"]

    stale = await b.post(
        f"/dashboard/cases/{appeal.appeal_id}/answer",
        {"text": "Түзету", "corrects": "not-the-current"},
    )
    assert stale.status_code == 409
    fixed = await b.post(
        f"/dashboard/cases/{appeal.appeal_id}/answer",
        {"text": "Құрметті Айгүл! Түзетілген жауап.", "corrects": only["id"]},
    )
    assert fixed.status_code == 303
    answers = (await dialog.internal_answers(http, appeal.appeal_id)).json()["answers"]
    assert [a["text"] for a in answers] == [
        "Құрметті Айгүл! Жауап.",
        "Құрметті Айгүл! Түзетілген жауап.",
    ]
    assert answers[1]["corrects"] == answers[0]["id"]
    page = await b.get(f"/dashboard/cases/{appeal.appeal_id}")
    assert "Ауыстырылды" in page.text and "Түзетілген жауап" in page.text
    assert len(await dialog.audit(action="answer_correction", appeal_id=appeal.appeal_id)) == 1


async def test_internal_answers_api_needs_the_service_token(
    dialog: Dialog, http: httpx.AsyncClient
) -> None:
    r = await http.get(f"{dialog.url}/dashboard/internal/answers/anything")
    assert r.status_code == 403
    r = await http.get(f"{dialog.url}/dashboard/internal/answers/none-yet", headers=internal())
    assert r.status_code == 404 and r.json()["error"]["message"]["kk"]
