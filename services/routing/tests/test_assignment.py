"""AppealRecorded → a case for the addressee or the acting deputy; AnswerPosted closes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dialog_contracts import AppealRouted

from .conftest import RECORDED_AT, Rig, recorded


async def away(rig: Rig, official: str, deputy: str, first: str, last: str) -> None:
    r = await rig.patch(
        f"/api/v1/directory/officials/{official}",
        {"deputy": {"deputy_id": deputy, "from": first, "to": last}, "by": "admin"},
    )
    assert r.status_code == 200, r.text


async def test_appeal_goes_to_the_acting_deputy_during_the_range(rig: Rig) -> None:
    await away(rig, "deputy-housing", "deputy-economy", "2026-11-02", "2026-11-06")
    case = await rig.record("a1")
    assert case["official_id"] == "deputy-economy"
    assert case["addressed_official_id"] == "deputy-housing"  # whom the citizen chose
    assert case["department"] == "Экономика и предпринимательство"
    [routed] = rig.events(AppealRouted)
    assert routed.official_id == "deputy-economy"
    assert routed.addressed_official_id == "deputy-housing"


async def test_outside_the_range_the_addressee_keeps_the_appeal(rig: Rig) -> None:
    # The range ends the day before; "Sunday evening in UTC" is already Monday in Almaty.
    await away(rig, "deputy-housing", "deputy-economy", "2026-10-26", "2026-11-01")
    case = await rig.record("a1", recorded_at=datetime(2026, 11, 1, 19, 30, tzinfo=UTC))
    assert case["official_id"] == "deputy-housing"
    await away(rig, "deputy-housing", "deputy-economy", "2026-11-03", "2026-11-10")
    later = await rig.record("a2")
    assert later["official_id"] == "deputy-housing"


async def test_a_deputy_who_left_takes_no_cases(rig: Rig) -> None:
    await away(rig, "deputy-housing", "deputy-economy", "2026-11-01", "2026-11-30")
    r = await rig.patch("/api/v1/directory/officials/deputy-economy", {"active": False})
    assert r.status_code == 200
    assert (await rig.record("a1"))["official_id"] == "deputy-housing"


async def test_redelivered_appeal_opens_one_case(rig: Rig) -> None:
    await rig.publish(recorded("a1"), times=3)
    assert len(rig.events(AppealRouted)) == 1
    case = await rig.case("a1")
    assert [h["what"] for h in case["history"]] == ["routed"]
    assert case["status"] == "new" and case["phone"] == "+77012345678"
    assert case["control_date"] == "2026-11-16" and case["legal_deadline"] == "2026-11-23"


async def test_answer_closes_the_case_once(rig: Rig) -> None:
    await rig.record("a1")
    answered_at = RECORDED_AT + timedelta(days=3)
    for _ in range(3):
        await rig.answer("a1", answered_at, official_id="deputy-housing")
    # A correction later (a new AnswerPosted) does not move the first answer's time either.
    await rig.answer("a1", answered_at + timedelta(days=1), official_id="deputy-housing")
    case = await rig.case("a1")
    assert case["status"] == "answered" and case["overdue"] is False
    assert datetime.fromisoformat(case["answered_at"]) == answered_at
    assert [h["what"] for h in case["history"]] == ["routed", "answered"]
