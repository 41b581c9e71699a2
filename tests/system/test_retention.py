"""Storage periods, legal hold and the citizen's copy, in one process and across RabbitMQ.

The control office exports everything held about an appeal as one ZIP; a case on hold outlives
its period; with the clock moved past the period, `dialog retention run` destroys the rest: the
videos leave the object store, no service's database holds the citizen's name, IIN or phone, the
look-up says the file was destroyed, and the statistics, the CSV and the open figures read the
same as before.
"""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from dialog_platform.testing.dashboard import Official, forms
from dialog_platform.testing.launch import run_cli
from dialog_platform.testing.waiting import eventually
from dialog_platform.testing.webm import make_webm
from routing import open_figures as open_figures_module
from routing.directory import Directory

from .conftest import System
from .test_case_round import record_appeal, routing_case

# The citizen whose file is destroyed: nothing else in this module uses these.
NAME = "Ержан Бауыржанұлы Тасмағамбетов"
IIN = "850312300002"
PHONE = "+7 705 111 22 33"
PHONE_DIGITS = "7051112233"
PERIOD = timedelta(days=1826 + 40)  # past five years after the answer, whatever the weekday


ACCOUNTS: dict[str, str] = {}


def account(system: System, login: str, *args: str) -> tuple[str, str]:
    """`dialog user add` once per system; the generated password is the last line."""
    login = f"{login}-{system.mode}"
    if login not in ACCOUNTS:
        out = run_cli(["user", "add", login, *args], system.runner.cli_env())
        ACCOUNTS[login] = out.strip().splitlines()[-1]
    return login, ACCOUNTS[login]


def add_controller(system: System) -> tuple[str, str]:
    return account(system, "records", "--role", "controller")


async def answered_appeal(
    system: System, http: httpx.AsyncClient, video: bytes, answer_video: bytes, **fields: Any
) -> dict[str, Any]:
    appeal = await record_appeal(system, http, video, **fields)
    appeal_id = appeal["appeal_id"]
    await eventually(lambda: routing_case(system, http, appeal_id))
    login, password = account(
        system, "records-housing", "--role", "official", "--official", "deputy-housing"
    )
    async with Official(system.dashboard_url) as official:
        await official.login(login, password)
        await official.answer(appeal_id, "Жөндеу келесі аптаға жоспарланды.", answer_video)

    async def closed() -> bool:
        return (await routing_case(system, http, appeal_id)).get("status") == "answered"

    await eventually(closed)
    return appeal


async def post_form(
    official: Official, appeal_id: str, form_id: str, **data: str
) -> httpx.Response:
    page = await official.case_page(appeal_id)
    form = forms(page)[form_id]
    return await official.client.post(form.action, data={**form.hidden, **data})


async def audit(system: System, **query: Any) -> list[dict[str, Any]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(system.mongo_url, tz_aware=True)
    try:
        db = client[f"{system.db_prefix}_dashboard"]
        return [a async for a in db.audit.find(query)]
    finally:
        await client.close()


async def holders(system: System, needles: tuple[str, ...]) -> list[str]:
    """Every database, collection and field path of the system holding one of `needles`."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(system.mongo_url, tz_aware=True)
    found: list[str] = []
    try:
        for name in await client.list_database_names():
            if not name.startswith(f"{system.db_prefix}_"):
                continue
            db = client[name]
            for collection in await db.list_collection_names():
                async for doc in db[collection].find({}):
                    text = json.dumps(doc, ensure_ascii=False, default=str)
                    found += [f"{name}.{collection}: {n}" for n in needles if n in text]
    finally:
        await client.close()
    return found


async def test_the_citizens_copy_holds_everything_and_is_audited(
    system: System, http: httpx.AsyncClient, videos: dict[str, Path], tmp_path: Path
) -> None:
    video = videos["short"].read_bytes()
    answer_video = make_webm(tmp_path / "answer.webm", seconds=2).read_bytes()
    appeal = await answered_appeal(system, http, video, answer_video, language="kk")
    appeal_id = appeal["appeal_id"]
    login, password = add_controller(system)
    async with Official(system.dashboard_url) as control:
        await control.login(login, password)
        page = await control.case_page(appeal_id)
        assert f"/dashboard/cases/{appeal_id}/copy.zip" in page
        got = await control.client.get(f"/dashboard/cases/{appeal_id}/copy.zip")
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(got.content)) as z:
        names = set(z.namelist())
        assert {"summary.txt", "timeline.json", "sms.json", "appeal.webm"} <= names
        assert {"answer-1.txt", "answer-1.webm"} <= names
        assert z.read("appeal.webm") == video
        assert z.read("answer-1.webm") == answer_video
        summary = z.read("summary.txt").decode()
        timeline = json.loads(z.read("timeline.json"))
        sms = json.loads(z.read("sms.json"))
    # In the appeal's language (Kazakh), with the citizen, the answer and the history.
    assert appeal["registration_number"] in summary and "Өтініш беруші" in summary
    assert "Айгүл Серікқызы Нұрланова" in summary
    assert "Жөндеу келесі аптаға жоспарланды." in summary
    assert {"routed", "answered"} <= {h["what"] for h in timeline}
    assert "answer_posted" in {s["purpose"] for s in sms}
    [entry] = await audit(system, action="export", appeal_id=appeal_id)
    assert entry["login"] == login


async def test_a_hold_without_a_reason_or_on_an_unknown_case_changes_nothing(
    system: System, http: httpx.AsyncClient, videos: dict[str, Path]
) -> None:
    appeal = await record_appeal(system, http, videos["short"].read_bytes())
    appeal_id = appeal["appeal_id"]
    await eventually(lambda: routing_case(system, http, appeal_id))
    login, password = add_controller(system)
    async with Official(system.dashboard_url) as control:
        await control.login(login, password)
        refused = await post_form(control, appeal_id, "hold-form", reason="   ")
        assert refused.status_code == 422
        assert "Себебін жазыңыз" in refused.text  # the dashboard's language is Kazakh by default
        await control.client.get("/dashboard/lang/ru")
        refused = await post_form(control, appeal_id, "hold-form", reason="")
        assert refused.status_code == 422 and "Укажите причину" in refused.text
        placed = await post_form(control, appeal_id, "hold-form", reason="Суд")
        assert placed.status_code == 303
        await post_form(control, appeal_id, "release-form", reason="ошибочно")
        page = await control.case_page(appeal_id)
        form = forms(page)["hold-form"]
        missing = await control.client.post(
            "/dashboard/cases/no-such-case/hold", data={**form.hidden, "reason": "Суд"}
        )
        assert missing.status_code == 404
    case = await routing_case(system, http, appeal_id)
    assert case["legal_hold"] is None
    assert [h["what"] for h in case["history"]][-2:] == ["hold", "hold_lifted"]
    assert len(await audit(system, action="legal_hold", appeal_id=appeal_id)) == 1
    # The routing API says why in both languages.
    r = await http.post(
        f"{system.routing_url}/api/v1/cases/{appeal_id}/hold",
        json={"reason": "", "by": login},
        headers=system.internal_headers(),
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "reason"
    assert set(r.json()["error"]["message"]) == {"kk", "ru"}


async def test_past_the_storage_period_the_file_is_destroyed_unless_held(
    system: System,
    http: httpx.AsyncClient,
    videos: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    video = videos["short"].read_bytes()
    answer_video = make_webm(tmp_path / "answer.webm", seconds=2).read_bytes()
    gone = await answered_appeal(
        system, http, video, answer_video, language="ru", full_name=NAME, iin=IIN, phone=PHONE
    )
    held = await answered_appeal(system, http, video, answer_video, phone="+7 705 999 88 77")
    gone_id, held_id = gone["appeal_id"], held["appeal_id"]
    login, password = add_controller(system)
    async with Official(system.dashboard_url) as control:
        await control.login(login, password)
        done = await post_form(control, held_id, "hold-form", reason="Иск в суде № 2-77/2027")
        assert done.status_code == 303, done.text
    assert system.stored_objects(f"appeals/{gone_id}/")
    assert system.stored_objects(f"answers/{gone_id}/")
    needles = (NAME, IIN, PHONE_DIGITS)
    assert await holders(system, needles)

    system.runner.move_clock(PERIOD)
    env = system.runner.cli_env()
    recorded_on = date.fromisoformat(str(gone["control_date"])) - timedelta(days=14)
    span = {
        "from": (recorded_on - timedelta(days=7)).isoformat(),
        "to": (recorded_on + timedelta(days=30)).isoformat(),
    }

    async def figures() -> tuple[Any, bytes]:
        stats = await http.get(
            f"{system.routing_url}/api/v1/cases/stats",
            params=span,
            headers=system.internal_headers(),
        )
        assert stats.status_code == 200, stats.text
        async with Official(system.dashboard_url) as control:
            await control.login(login, password)  # the old session ended with the clock's move
            page = await control.client.get("/dashboard/control/stats", params=span)
            assert page.status_code == 200
            csv = await control.client.get("/dashboard/control/export.csv")
            assert csv.status_code == 200
        return stats.json(), csv.content, await open_figures()

    async def open_figures() -> Any:
        # What `/open` publishes for the months of these appeals (its page shows the last 12
        # months of the moved clock, so it is computed as of the month they were recorded), from
        # routing's own database. Every cell is shown: this module's few appeals would otherwise
        # all read "<5", and the comparison would say nothing.
        monkeypatch.setattr(open_figures_module, "MIN_CELL", 0)
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(system.mongo_url, tz_aware=True)
        try:
            db = client[f"{system.db_prefix}_routing"]
            directory = Directory(db=db, clock=lambda: datetime.now(UTC), outbox=None)  # type: ignore[arg-type]
            return await open_figures_module.compute(
                db, directory, recorded_on + timedelta(days=30)
            )
        finally:
            await client.close()

    before = await figures()
    counted = [r for r in before[2]["rows"] if r["level"] == "official" and r["received"]]
    assert sum(r["received"] for r in counted) >= 2  # the two appeals of this test at least

    dry = run_cli(["retention", "run", "--dry-run"], env)
    assert gone["registration_number"] in dry and held["registration_number"] not in dry
    assert "would destroy" in dry
    assert system.stored_objects(f"appeals/{gone_id}/")
    assert (await routing_case(system, http, gone_id))["phone"]

    done_run = run_cli(["retention", "run"], env)
    # Other tests of this module leave answered appeals too, and they are as old by now.
    assert gone["registration_number"] in done_run and "destroyed" in done_run
    assert held["registration_number"] not in done_run

    async def left() -> list[str]:
        return [
            *system.stored_objects(f"appeals/{gone_id}/"),
            *system.stored_objects(f"answers/{gone_id}/"),
            *await holders(system, needles),
        ]

    for _ in range(120):
        if not await left():
            break
        await asyncio.sleep(0.5)
    assert await left() == []
    # The held case keeps everything.
    assert system.stored_objects(f"appeals/{held_id}/")
    assert (await routing_case(system, http, held_id))["phone"]

    looked = await http.post(
        f"{system.gateway_url}/api/v1/answers/lookup",
        json={
            "registration_number": gone["registration_number"],
            "access_code": gone["access_code"],
        },
    )
    assert looked.status_code == 200, looked.text
    assert looked.json()["status"] == "destroyed" and looked.json()["answer"] is None
    assert "уничтожены" in looked.json()["notice"]["ru"] and looked.json()["notice"]["kk"]
    [entry] = await audit(system, action="retention", appeal_id=gone_id)
    assert entry["detail"] == {"kinds": ["personal", "video"]}
    assert await figures() == before

    # Lifting the hold lets the next run destroy the held case too.
    async with Official(system.dashboard_url) as control:
        await control.login(login, password)
        lifted = await post_form(control, held_id, "release-form", reason="Решение вступило в силу")
        assert lifted.status_code == 303, lifted.text
    assert held["registration_number"] in run_cli(["retention", "run"], env)

    async def held_destroyed() -> bool:
        return not system.stored_objects(f"appeals/{held_id}/")

    await eventually(held_destroyed, timeout=60)
    assert not (await routing_case(system, http, held_id)).get("phone")
