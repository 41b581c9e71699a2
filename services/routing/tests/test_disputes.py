"""A "did not help": the dispute on the case, the supervisor's and the control office's list,
and the two ways it is settled, each an event the citizen is told by."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dialog_contracts import AnswerConfirmed, AnswerPosted, AnswerRated, FollowUpRequested
from dialog_platform.calendar import add_working_days, local_date

from .conftest import RECORDED_AT, Rig

ANSWERED_AT = RECORDED_AT + timedelta(days=3)


def rating(appeal_id: str, *, helped: bool, at: datetime, **more: Any) -> AnswerRated:
    return AnswerRated(
        appeal_id=appeal_id,
        registration_number=f"2026-{appeal_id}",
        official_id="deputy-housing",
        language="ru",
        helped=helped,
        reason=None if helped else more.pop("reason", "unclear"),
        comment=more.pop("comment", None),
        answered_at=more.pop("answered_at", ANSWERED_AT),
        rated_at=at,
    )


async def disputed(rig: Rig, supervisor: str | None = None) -> list[str]:
    params = {"supervisor_id": supervisor} if supervisor else {}
    r = await rig.http.get("/api/v1/cases/disputed", params=params, headers=rig.headers)
    assert r.status_code == 200, r.text
    return [c["appeal_id"] for c in r.json()["cases"]]


async def answered_and_disputed(rig: Rig, appeal_id: str) -> datetime:
    await rig.record(appeal_id)
    await rig.answer(appeal_id, ANSWERED_AT, official_id="deputy-housing")
    rated_at = ANSWERED_AT + timedelta(hours=2, microseconds=123456)
    no = rating(appeal_id, helped=False, at=rated_at, comment="Когда починят свет?")
    # A redelivery changes nothing twice.
    await rig.publish(no, times=2)
    return rated_at


async def test_a_no_puts_the_case_in_the_supervisors_and_the_control_offices_list(
    rig: Rig,
) -> None:
    await answered_and_disputed(rig, "d1")
    await rig.record("d2")  # not answered, not rated: in nobody's list
    assert await disputed(rig) == ["d1"]
    assert await disputed(rig, "akim") == ["d1"]  # akim supervises deputy-housing
    assert await disputed(rig, "deputy-social") == []
    case = await rig.case("d1")
    assert [h["what"] for h in case["history"]].count("rated_not_helpful") == 1
    assert case["dispute"]["state"] == "open"
    assert case["rating"] == {
        "helped": False,
        "reason": "unclear",
        "comment": "Когда починят свет?",
        "rated_at": case["rating"]["rated_at"],
    }
    # The citizen changes their mind within the window: a "yes" withdraws the dispute; an older
    # rating arriving late changes nothing.
    await rig.publish(rating("d1", helped=True, at=ANSWERED_AT + timedelta(days=1)))
    await rig.publish(rating("d1", helped=False, at=ANSWERED_AT + timedelta(hours=1)))
    assert await disputed(rig) == []
    case = await rig.case("d1")
    assert case["rating"]["helped"] is True and case["dispute"]["state"] == "withdrawn"


async def test_confirming_keeps_the_answer_and_tells_the_citizen(rig: Rig) -> None:
    await answered_and_disputed(rig, "d1")
    url = "/api/v1/cases/d1/confirm"
    empty = await rig.post(url, {"note": "  ", "by": "akim"})
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "note"
    assert empty.json()["error"]["message"]["kk"]
    r = await rig.post(url, {"note": "Работы назначены на май.", "by": "akim"})
    assert r.status_code == 200, r.text
    assert r.json()["dispute"]["state"] == "confirmed" and r.json()["status"] == "answered"
    again = await rig.post(url, {"note": "x", "by": "control"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_disputed"
    await rig.settle()
    [event] = rig.events(AnswerConfirmed)
    assert event.appeal_id == "d1" and event.language == "ru"
    assert "Работы" not in event.model_dump_json()  # the note stays in the case
    seen = (await rig.http.get("/api/v1/cases/d1/dispute", headers=rig.headers)).json()
    assert seen["state"] == "confirmed" and seen["note"] == "Работы назначены на май."
    assert await disputed(rig) == []


async def test_a_follow_up_reopens_the_case_with_a_new_control_date(rig: Rig) -> None:
    await answered_and_disputed(rig, "d1")
    before = await rig.case("d1")
    r = await rig.post("/api/v1/cases/d1/follow-up", {"note": "Ответьте по существу", "by": "c"})
    assert r.status_code == 200, r.text
    case = r.json()
    due = add_working_days(local_date(rig.clock()), 10)
    assert case["status"] == "in_progress" and case["control_date"] == due.isoformat()
    assert case["legal_deadline"] >= case["control_date"] >= before["control_date"]
    assert case["round"] == 2 and case["answered_at"] is None
    assert case["history"][-1]["what"] == "follow_up_requested"
    second = await rig.post("/api/v1/cases/d1/follow-up", {"by": "c"})
    assert second.status_code == 409
    await rig.settle()
    [event] = rig.events(FollowUpRequested)
    assert event.control_date == due and event.round == 2
    seen = (await rig.http.get("/api/v1/cases/d1/dispute", headers=rig.headers)).json()
    assert seen == {**seen, "state": "follow_up", "control_date": due.isoformat(), "note": None}

    # The official's new answer closes it again; the citizen's "yes" counts in the figures.
    new_answer = ANSWERED_AT + timedelta(days=5)
    await rig.publish(
        AnswerPosted(
            appeal_id="d1",
            registration_number="2026-d1",
            official_id="deputy-housing",
            answered_at=new_answer,
            has_video=False,
            round=2,
        )
    )
    assert (await rig.case("d1"))["status"] == "answered"
    await rig.publish(
        rating("d1", helped=True, at=new_answer + timedelta(hours=1), answered_at=new_answer)
    )
    stats = await rig.http.get(
        "/api/v1/cases/stats", params={"from": "2026-11-01", "to": "2026-11-30"},
        headers=rig.headers,
    )  # fmt: skip
    [housing] = [o for o in stats.json()["officials"] if o["official_id"] == "deputy-housing"]
    assert (housing["rated"], housing["helped"], housing["share_helpful"]) == (1, 1, 1.0)


async def test_refusals_change_nothing(rig: Rig) -> None:
    await rig.record("d1")
    for path, body, status, code in [
        ("/api/v1/cases/d1/follow-up", {"by": "c"}, 409, "not_disputed"),
        ("/api/v1/cases/d1/confirm", {"note": "x", "by": "c"}, 409, "not_disputed"),
        ("/api/v1/cases/nope/confirm", {"note": "x", "by": "c"}, 404, "case_not_found"),
        ("/api/v1/cases/d1/confirm", {"note": "x"}, 422, "invalid"),
    ]:
        r = await rig.post(path, body)
        assert r.status_code == status, (path, r.text)
        if status != 422:
            assert r.json()["error"]["code"] == code
    # A rating before the answer is kept but opens nothing.
    await rig.publish(rating("d1", helped=False, at=datetime(2026, 11, 3, tzinfo=UTC)))
    assert await disputed(rig) == []
    assert rig.events(FollowUpRequested) == [] and rig.events(AnswerConfirmed) == []
