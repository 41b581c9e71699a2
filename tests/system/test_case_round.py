"""The whole round, in one process and across RabbitMQ: the citizen records, the official is told
by SMS, logs in, plays the video and answers with text and a video; the citizen is told by SMS
and sees both with the number and code. Then the deadlines: a case left unanswered is overdue,
and the official and their supervisor are told. Then the citizen's voice: an answer rated "did
not help", a new answer asked for by the control office, rated "helped", and the open figures.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from dialog_platform.calendar import local_date
from dialog_platform.testing.booth_api import file_appeal
from dialog_platform.testing.dashboard import Official, forms
from dialog_platform.testing.launch import run_cli
from dialog_platform.testing.waiting import eventually
from dialog_platform.testing.webm import make_webm

from .conftest import System
from .test_core_path import appeal_body

CITIZEN = "+77012345678"
HOUSING = "+77010000004"  # deputy-housing's SMS phone in the demo directory (reads Russian)
AKIM = "+77010000001"  # deputy-housing's supervisor (reads Kazakh)
# /open's figures are recomputed and copied to the gateway within a second, not ten minutes.
SYSTEM_ENV_EXTRA = {
    "DIALOG_ROUTING_OPEN_FIGURES_INTERVAL_S": "1",
    "DIALOG_KIOSK_GATEWAY_OPEN_FIGURES_INTERVAL_S": "1",
}


@pytest.fixture(scope="module")
def answer_video(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = make_webm(tmp_path_factory.mktemp("answer") / "answer.webm", seconds=3)
    return path.read_bytes()


async def record_appeal(
    system: System, http: httpx.AsyncClient, video: bytes, **fields: Any
) -> dict[str, Any]:
    _, token = system.kiosk_add()
    return await file_appeal(http, system.gateway_url, token, appeal_body(**fields), video)


async def routing_case(system: System, http: httpx.AsyncClient, appeal_id: str) -> dict[str, Any]:
    response = await http.get(
        f"{system.routing_url}/api/v1/cases/{appeal_id}", headers=system.internal_headers()
    )
    return response.json() if response.status_code == 200 else {}


def absolute(system: System, url: str) -> str:
    return url if url.startswith("http") else f"{system.media_store_url}{url}"


def add_official_account(system: System, login: str, official_id: str | None) -> str:
    """`dialog user add`, as the akimat's admin would; the generated password is the last line.
    Without an official, an account of the control office."""
    role = (
        ["--role", "official", "--official", official_id]
        if official_id
        else ["--role", "controller"]
    )
    out = run_cli(["user", "add", login, *role], system.runner.cli_env())
    return out.strip().splitlines()[-1]


async def test_official_answers_and_the_citizen_sees_it(
    system: System, http: httpx.AsyncClient, videos: dict[str, Path], answer_video: bytes
) -> None:
    video = videos["short"].read_bytes()
    appeal = await record_appeal(system, http, video, language="ru")
    appeal_id, number = appeal["appeal_id"], appeal["registration_number"]
    code = appeal["access_code"]

    async def routed() -> bool:
        return bool(await routing_case(system, http, appeal_id))

    await eventually(routed)

    # The official learns of the new appeal by SMS, in the official's language.
    async def official_told() -> list[str]:
        return [m.text for m in system.smsc.state.sent_to(HOUSING) if number in m.text]

    [told] = await eventually(official_told)
    assert told.startswith(f"Новое обращение {number}")

    async with Official(system.dashboard_url) as official:
        password = add_official_account(system, f"housing-{system.mode}", "deputy-housing")
        await official.login(f"housing-{system.mode}", password)
        inbox = await official.client.get("/dashboard/inbox")
        assert inbox.status_code == 200 and number in inbox.text

        page = await official.case_page(appeal_id)
        assert number in page
        # The video plays with seeking: a short-lived URL that answers range requests.
        link = await official.client.get(f"/dashboard/cases/{appeal_id}/video-url.json")
        assert link.status_code == 200, link.text
        part = await http.get(
            absolute(system, link.json()["url"]), headers={"Range": "bytes=1000-1999"}
        )
        assert part.status_code == 206 and part.content == video[1000:2000]

        text = "Ваш вопрос решён: ремонт крыши назначен на следующую неделю."
        posted = await official.answer(appeal_id, text, answer_video)
        assert posted.video_key and posted.corrects is None

    async def answered() -> bool:
        return (await routing_case(system, http, appeal_id)).get("status") == "answered"

    await eventually(answered)

    # The citizen is told by SMS in the appeal's language (the access code is never sent)...
    async def citizen_told() -> list[str]:
        return [m.text for m in system.smsc.state.sent_to(CITIZEN) if "готов" in m.text]

    [ready] = await eventually(citizen_told)
    assert ready.startswith(f"Ответ на {number} готов") and code not in ready

    # ...and sees the answer, text and video, with the number and code from the receipt.
    async def looked_up() -> dict[str, Any] | None:
        r = await http.post(
            f"{system.gateway_url}/api/v1/answers/lookup",
            json={"registration_number": number, "access_code": code},
        )
        body: dict[str, Any] = r.json()
        return body if r.status_code == 200 and body.get("answer") else None

    found = await eventually(looked_up)
    assert found["status"] == "answered"
    assert found["answer"]["text"] == text
    played = await http.get(absolute(system, found["answer"]["video_url"]))
    assert played.status_code == 200 and played.content == answer_video


async def test_unanswered_case_goes_overdue_and_the_supervisor_is_told(
    system: System, http: httpx.AsyncClient, videos: dict[str, Path]
) -> None:
    appeal = await record_appeal(system, http, videos["short"].read_bytes())
    appeal_id, number = appeal["appeal_id"], appeal["registration_number"]

    async def routed() -> bool:
        return bool(await routing_case(system, http, appeal_id))

    await eventually(routed)

    # Past the control date (14 calendar days) with no answer; the scan runs as it would on
    # its own every minute, and firing twice changes nothing.
    system.runner.move_clock(timedelta(days=16))
    timers = f"{system.routing_url}/api/v1/cases/timers/run"
    for _ in range(2):
        ran = await http.post(timers, headers=system.internal_headers())
        assert ran.status_code == 200, ran.text

    async def overdue() -> bool:
        return bool((await routing_case(system, http, appeal_id)).get("overdue"))

    await eventually(overdue)

    async def both_told() -> tuple[list[str], list[str]] | None:
        official = [m.text for m in system.smsc.state.sent_to(HOUSING) if "Просрочено" in m.text]
        akim = [m.text for m in system.smsc.state.sent_to(AKIM) if number in m.text]
        official = [t for t in official if number in t]
        return (official, akim) if official and akim else None

    official, akim = await eventually(both_told)
    assert len(official) == 1 and official[0].startswith(f"Просрочено обращение {number}")
    assert len(akim) == 1 and akim[0].startswith(f"Мерзімі өтті: {number}")


async def test_a_no_brings_a_new_answer_and_the_share_rated_helpful_reaches_open(
    system: System, http: httpx.AsyncClient, videos: dict[str, Path]
) -> None:
    video = videos["short"].read_bytes()
    gw = system.gateway_url
    appeal = await record_appeal(system, http, video, language="ru")
    appeal_id, number = appeal["appeal_id"], appeal["registration_number"]
    keys = {"registration_number": number, "access_code": appeal["access_code"]}

    async def lookup() -> dict[str, Any]:
        found: dict[str, Any] = (await http.post(f"{gw}/api/v1/answers/lookup", json=keys)).json()
        return found

    def answer_shown(text: str) -> Any:
        async def shown() -> dict[str, Any] | None:
            found = await lookup()
            return found if (found.get("answer") or {}).get("text") == text else None

        return shown

    def citizen_texts(words: str) -> list[str]:
        return [
            m.text
            for m in system.smsc.state.sent_to(CITIZEN)
            if number in m.text and words in m.text
        ]

    first, second = "Ремонт запланирован на май.", "Свет во дворе починят 12 мая."
    login = f"round-housing-{system.mode}"
    async with Official(system.dashboard_url) as official:
        await official.login(login, add_official_account(system, login, "deputy-housing"))
        await official.answer(appeal_id, first)
        await eventually(answer_shown(first))

        # The citizen: it did not help.
        rated = await http.post(
            f"{gw}/api/v1/answers/rating",
            json={**keys, "helped": False, "reason": "not_answered", "comment": "А когда?"},
        )
        assert rated.status_code == 200, rated.text

        # The control office finds it in its list and asks for a new answer.
        control = f"round-control-{system.mode}"
        async with Official(system.dashboard_url) as office:
            await office.login(control, add_official_account(system, control, None))

            async def listed() -> str | None:
                page = await office.client.get("/dashboard/disputed")
                return page.text if number in page.text else None

            page = await eventually(listed)
            form = forms(page)[f"/dashboard/disputed/{appeal_id}/follow-up"]
            asked = await office.client.post(
                form.action, data={**form.hidden, "note": "Назовите дату ремонта"}
            )
            assert asked.status_code == 303, asked.text

        # Told once by SMS; the look-up shows the new date.
        async def told_of_follow_up() -> bool:
            return bool(citizen_texts("запрошен новый ответ"))

        await eventually(told_of_follow_up)
        case = await routing_case(system, http, appeal_id)
        assert (await lookup())["follow_up"]["control_date"] == case["control_date"]

        # The official's new answer (not a correction), told to the citizen, rated "helped".
        posted = await official.answer(appeal_id, second)
        assert posted.corrects is None
        shown = await eventually(answer_shown(second))
        assert shown["rating"] is None
        rated = await http.post(f"{gw}/api/v1/answers/rating", json={**keys, "helped": True})
        assert rated.status_code == 200 and rated.json()["rating"]["helped"] is True

        async def told_of_new_answer() -> bool:
            return len(citizen_texts("готов")) == 2

        await eventually(told_of_new_answer)
        assert len(citizen_texts("запрошен новый ответ")) == 1

        # Four more answers rated "helped": five ratings, enough for /open to show the share.
        for _ in range(4):
            more = await record_appeal(system, http, video, language="ru")
            more_keys = {k: more[k] for k in ("registration_number", "access_code")}

            async def routed(appeal_id: str = more["appeal_id"]) -> bool:
                return bool(await routing_case(system, http, appeal_id))

            await eventually(routed)
            await official.answer(more["appeal_id"], first)

            async def rated_yes(body: dict[str, Any] = more_keys) -> bool:
                r = await http.post(f"{gw}/api/v1/answers/rating", json={**body, "helped": True})
                return r.status_code == 200  # 409 until the answer reached the gateway

            await eventually(rated_yes)

    async def all_rated() -> dict[str, Any] | None:
        found = await routing_case(system, http, appeal_id)
        return found if (found.get("rating") or {}).get("helped") else None

    # The month as routing counts it: Almaty's date of the recording.
    recorded = datetime.fromisoformat((await eventually(all_rated))["recorded_at"])
    month = local_date(recorded).isoformat()[:7]
    stats = await http.get(
        f"{system.routing_url}/api/v1/cases/stats",
        params={"from": f"{month}-01"},
        headers=system.internal_headers(),
    )
    [housing] = [o for o in stats.json()["officials"] if o["official_id"] == "deputy-housing"]
    assert housing["rated"] >= 5 and housing["share_helpful"] == 1.0

    async def published() -> dict[str, Any] | None:
        rows = (await http.get(f"{gw}/open/data.json")).json()["rows"]
        row = next(r for r in rows if r["month"] == month and r["official_id"] == "deputy-housing")
        return row if row["share_helpful"] is not None else None

    row = await eventually(published)
    assert row["share_helpful"] == 1.0 and row["suppressed"] is False
    page = await http.get(f"{gw}/open", params={"lang": "ru", "month": month})
    assert page.status_code == 200 and "100%" in page.text and number not in page.text
