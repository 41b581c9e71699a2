"""Forwarding and extension: the rules, the history, and the events the citizen is told by."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from dialog_contracts import AppealExtended, AppealForwarded, AppealRouted

from .conftest import RECORDED_AT, Rig

FORWARD = "/api/v1/cases/a1/forward"
EXTEND = "/api/v1/cases/a1/extend"


def almaty_noon(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, 7, 0, tzinfo=UTC)


async def test_forward_moves_the_case_and_tells_everyone(rig: Rig) -> None:
    await rig.record("a1")
    await rig.post("/api/v1/cases/a1/opened", {"by": "housing-clerk"})
    r = await rig.post(
        FORWARD,
        {"to_official_id": "deputy-social", "reason": "Вопрос о школе", "by": "control-1"},
    )
    assert r.status_code == 200, r.text
    case = r.json()
    assert case["official_id"] == "deputy-social" and case["status"] == "new"
    assert case["addressed_official_id"] == "deputy-housing"
    assert case["department"] == "Социальная сфера"
    forwarded = case["history"][-1]
    assert forwarded["what"] == "forwarded" and forwarded["by"] == "control-1"
    assert forwarded["official_id"] == "deputy-housing"
    assert forwarded["to_official_id"] == "deputy-social"
    assert forwarded["reason"] == "Вопрос о школе"
    await rig.settle()
    [event] = rig.events(AppealForwarded)
    assert (event.from_official_id, event.to_official_id) == ("deputy-housing", "deputy-social")
    assert event.language == "ru"
    routed = rig.events(AppealRouted)
    assert [e.official_id for e in routed] == ["deputy-housing", "deputy-social"]
    assert routed[1].control_date == date(2026, 11, 16)  # the deadlines do not restart


async def test_forward_refusals_change_nothing(rig: Rig) -> None:
    await rig.record("a1")
    await rig.patch("/api/v1/directory/officials/deputy-economy", {"active": False})
    for body, status, field in [
        ({"to_official_id": "nobody", "reason": "x", "by": "c"}, 422, "to_official_id"),
        ({"to_official_id": "deputy-economy", "reason": "x", "by": "c"}, 422, "to_official_id"),
        ({"to_official_id": "deputy-housing", "reason": "x", "by": "c"}, 422, "to_official_id"),
        ({"to_official_id": "deputy-social", "reason": "   ", "by": "c"}, 422, "reason"),
        ({"to_official_id": "deputy-social", "by": "c"}, 422, "reason"),
        ({"to_official_id": "deputy-social", "reason": "x"}, 422, "by"),
    ]:
        r = await rig.post(FORWARD, body)
        assert r.status_code == status and r.json()["error"]["field"] == field, (body, r.text)
        assert r.json()["error"]["message"]["kk"]
    good = {"to_official_id": "deputy-social", "reason": "x", "by": "c"}
    missing = await rig.post("/api/v1/cases/nope/forward", good)
    assert missing.status_code == 404
    case = await rig.case("a1")
    assert case["official_id"] == "deputy-housing" and len(case["history"]) == 1
    await rig.settle()
    assert rig.events(AppealForwarded) == []


async def test_answered_case_cannot_be_forwarded_or_extended(rig: Rig) -> None:
    await rig.record("a1")
    await rig.answer("a1", RECORDED_AT + timedelta(days=2), official_id="deputy-housing")
    body = {"to_official_id": "deputy-social", "reason": "x", "by": "c"}
    assert (await rig.post(FORWARD, body)).status_code == 409
    ext = {"legal_deadline": "2026-12-10", "reason": "x", "by": "c"}
    assert (await rig.post(EXTEND, ext)).status_code == 409


async def test_redirect_window_flag_after_three_working_days(rig: Rig) -> None:
    # Registered Mon 2 Nov: Tue 3, Wed 4, Thu 5 are working days 1-3; Fri 6 is past the window.
    await rig.record("a1")
    rig.clock.set(almaty_noon(date(2026, 11, 5)))
    assert (await rig.case("a1"))["redirect_window_passed"] is False
    rig.clock.set(almaty_noon(date(2026, 11, 6)))
    assert (await rig.case("a1"))["redirect_window_passed"] is True
    # Still allowed: the dashboard only warns.
    body = {"to_official_id": "deputy-social", "reason": "не по компетенции", "by": "c"}
    assert (await rig.post(FORWARD, body)).status_code == 200


async def test_redirect_window_counts_from_the_next_working_day(rig: Rig) -> None:
    # Registered Sat 7 Nov 2026 (a day off): counts from Mon 9; Thu 12 is day 3, Fri 13 day 4.
    await rig.record("a1", recorded_at=datetime(2026, 11, 7, 5, 0, tzinfo=UTC))
    rig.clock.set(almaty_noon(date(2026, 11, 12)))
    assert (await rig.case("a1"))["redirect_window_passed"] is False
    rig.clock.set(almaty_noon(date(2026, 11, 13)))
    assert (await rig.case("a1"))["redirect_window_passed"] is True


async def test_extension_moves_both_dates_and_tells_the_citizen(rig: Rig) -> None:
    await rig.record("a1")
    r = await rig.post(
        EXTEND,
        {"legal_deadline": "2026-12-21", "reason": "Нужна экспертиза", "by": "akim-office"},
    )
    assert r.status_code == 200, r.text
    case = r.json()
    assert case["legal_deadline"] == "2026-12-21"
    # Without a new control date the promise moves with the deadline.
    assert case["control_date"] == "2026-12-21"
    extended = case["history"][-1]
    assert extended["what"] == "extended" and extended["reason"] == "Нужна экспертиза"
    assert extended["deadline"] == "2026-12-21" and extended["by"] == "akim-office"
    await rig.settle()
    [event] = rig.events(AppealExtended)
    assert event.legal_deadline == date(2026, 12, 21) and event.control_date == date(2026, 12, 21)
    # An explicit control date, before the new legal deadline.
    r = await rig.post(
        EXTEND,
        {"legal_deadline": "2026-12-28", "control_date": "2026-12-24", "reason": "ещё", "by": "x"},
    )
    assert r.status_code == 200 and r.json()["control_date"] == "2026-12-24"


async def test_extension_refusals(rig: Rig) -> None:
    await rig.record("a1")
    for body, field, code in [
        # Two calendar months after registration (2 Nov) is 2 Jan 2027; 3 Jan is too far.
        ({"legal_deadline": "2027-01-03"}, "legal_deadline", "deadline_too_far"),
        ({"legal_deadline": "2026-11-23"}, "legal_deadline", "deadline_not_later"),
        ({"legal_deadline": "2026-11-20"}, "legal_deadline", "deadline_not_later"),
        ({"legal_deadline": "2026-12-10", "control_date": "2026-12-11"}, "control_date", None),
        ({"legal_deadline": "2026-12-10", "control_date": "2026-11-10"}, "control_date", None),
        ({"legal_deadline": "2026-12-10", "reason": ""}, "reason", "reason_required"),
        ({"legal_deadline": "someday"}, "legal_deadline", None),
    ]:
        r = await rig.post(EXTEND, {"reason": "r", "by": "c", **body})
        assert r.status_code == 422, (body, r.text)
        error = r.json()["error"]
        assert error["field"] == field and (code is None or error["code"] == code), error
    ok = await rig.post(EXTEND, {"legal_deadline": "2027-01-02", "reason": "r", "by": "c"})
    assert ok.status_code == 200
    case = await rig.case("a1")
    assert [h["what"] for h in case["history"]] == ["routed", "extended"]
    await rig.settle()
    assert len(rig.events(AppealExtended)) == 1


async def test_opened_once(rig: Rig) -> None:
    await rig.record("a1")
    for _ in range(2):
        r = await rig.post("/api/v1/cases/a1/opened", {"by": "housing-clerk"})
        assert r.status_code == 200 and r.json()["status"] == "in_progress"
    history = (await rig.case("a1"))["history"]
    assert [h["what"] for h in history] == ["routed", "opened"]
    assert history[1]["by"] == "housing-clerk"
