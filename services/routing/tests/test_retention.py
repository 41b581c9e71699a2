"""Storage periods and legal holds: routing decides what is destroyed, once, and tells everyone."""

from __future__ import annotations

from datetime import timedelta

from dialog_contracts import AppealExpired
from routing.component import build_retention, run_retention
from routing.settings import RoutingSettings

from .conftest import RECORDED_AT, Rig

PERIOD = timedelta(days=1826)
HOLD = "/api/v1/cases/a1/hold"
RELEASE = "/api/v1/cases/a1/release"


async def closed_case(rig: Rig, appeal_id: str = "a1") -> None:
    await rig.record(appeal_id)
    await rig.answer(appeal_id, RECORDED_AT + timedelta(days=3))


async def test_a_closed_case_expires_once_after_its_period(rig: Rig) -> None:
    await closed_case(rig, "a1")
    await rig.record("open")  # never answered: not closed, so never due
    rig.clock.move(PERIOD - timedelta(days=1))
    assert await run_retention(rig.ctx, False) == []
    rig.clock.move(timedelta(days=5))
    [line] = await run_retention(rig.ctx, True)
    assert "2026-a1" in line and "video, personal" in line
    await rig.settle()
    assert rig.events(AppealExpired) == []  # the dry run changed nothing
    assert (await rig.case("a1"))["phone"] == "+77012345678"

    assert len(await run_retention(rig.ctx, False)) == 1
    await rig.settle()
    [event] = rig.events(AppealExpired)
    assert event.appeal_id == "a1" and event.kinds == ["video", "personal"]
    case = await rig.case("a1")
    assert case["phone"] is None and set(case["expired"]) == {"video", "personal"}
    assert case["history"][-1]["what"] == "expired"
    # What the statistics read stays.
    assert case["status"] == "answered" and case["official_id"] == "deputy-housing"
    assert await run_retention(rig.ctx, False) == []
    await rig.settle()
    assert len(rig.events(AppealExpired)) == 1


async def test_each_kind_has_its_own_period(start_rig: object) -> None:
    rig: Rig = await start_rig(retention_video_days=30)  # type: ignore[operator]
    await closed_case(rig)
    rig.clock.move(timedelta(days=40))
    done = await build_retention(rig.ctx, RoutingSettings(retention_video_days=30)).run()
    assert [d.kinds for d in done] == [["video"]]
    await rig.settle()
    assert (await rig.case("a1"))["phone"] == "+77012345678"


async def test_a_held_case_outlives_its_period_until_the_hold_is_lifted(rig: Rig) -> None:
    await closed_case(rig)
    r = await rig.post(HOLD, {"reason": "Иск в суде № 2-123/2031", "by": "control-1"})
    assert r.status_code == 200, r.text
    rig.clock.move(PERIOD + timedelta(days=5))  # answered 3 days after it was made
    assert await run_retention(rig.ctx, False) == []
    case = await rig.case("a1")
    assert case["phone"] and case["legal_hold"]["reason"] == "Иск в суде № 2-123/2031"
    again = await rig.post(HOLD, {"reason": "ещё", "by": "control-1"})
    assert again.status_code == 409 and again.json()["error"]["message"]["kk"]

    r = await rig.post(RELEASE, {"reason": "Решение вступило в силу", "by": "control-1"})
    assert r.status_code == 200, r.text
    assert len(await run_retention(rig.ctx, False)) == 1
    history = [h["what"] for h in (await rig.case("a1"))["history"]]
    assert history[-3:] == ["hold", "hold_lifted", "expired"]


async def test_hold_refusals_change_nothing(rig: Rig) -> None:
    await closed_case(rig)
    for path, body, status, field in [
        (HOLD, {"reason": "   ", "by": "c"}, 422, "reason"),
        (HOLD, {"by": "c"}, 422, "reason"),
        (HOLD, {"reason": "x"}, 422, "by"),
        ("/api/v1/cases/nope/hold", {"reason": "x", "by": "c"}, 404, None),
        (RELEASE, {"reason": "x", "by": "c"}, 409, None),
    ]:
        r = await rig.post(path, body)
        error = r.json()["error"]
        assert r.status_code == status and error.get("field") == field, (path, body, r.text)
        assert error["message"]["kk"] and error["message"]["ru"]
    case = await rig.case("a1")
    assert case["legal_hold"] is None
    assert [h["what"] for h in case["history"]] == ["routed", "answered"]


async def test_the_citizens_comment_on_the_answer_expires_with_the_phone(rig: Rig) -> None:
    from dialog_contracts import AnswerRated

    await closed_case(rig, "a1")
    await rig.publish(
        AnswerRated(
            appeal_id="a1",
            registration_number="2026-a1",
            official_id="deputy-housing",
            language="ru",
            helped=False,
            reason="unclear",
            comment="Я живу на Абая, 5",
            answered_at=RECORDED_AT + timedelta(days=3),
            rated_at=RECORDED_AT + timedelta(days=4),
        )
    )
    assert (await rig.case("a1"))["rating"]["comment"] == "Я живу на Абая, 5"
    rig.clock.move(PERIOD + timedelta(days=5))
    assert len(await run_retention(rig.ctx, False)) == 1
    rating = (await rig.case("a1"))["rating"]
    # The figures keep what the citizen said of the answer, not their words.
    assert rating["comment"] is None and rating["helped"] is False and rating["reason"] == "unclear"
