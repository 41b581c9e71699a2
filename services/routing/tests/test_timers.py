"""Deadline timers kept in the database: each fires once per case and date, across restarts,
with the clock moved instead of waiting for weeks."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from dialog_contracts import AppealOverdue, DeadlineApproaching

from .conftest import RECORDED_AT, Clock, Rig, RigFactory, stop


def almaty(y: int, m: int, d: int, hh: int = 0, mm: int = 30) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=UTC) - timedelta(hours=5)


async def run_timers(rig: Rig) -> int:
    r = await rig.http.post("/api/v1/cases/timers/run", headers=rig.headers)
    assert r.status_code == 200, r.text
    await rig.settle()
    fired: int = r.json()["fired"]
    return fired


async def overdue_events_after_start(rig: Rig, expected: int) -> list[AppealOverdue]:
    """The scan at start runs in the background; wait for it (a few seconds at most)."""
    for _ in range(100):
        await rig.settle()
        if len(rig.events(AppealOverdue)) >= expected:
            break
        await asyncio.sleep(0.05)
    events: list[AppealOverdue] = rig.events(AppealOverdue)
    return events


async def test_each_timer_fires_once_across_restarts(start_rig: RigFactory) -> None:
    clock = Clock(RECORDED_AT + timedelta(minutes=1))
    first = await start_rig(clock)
    await first.record("a1")
    await first.record("a2")
    await first.answer("a2", RECORDED_AT + timedelta(days=1), official_id="deputy-housing")

    # Control date Mon 16 Nov; 3 working days before it is Wed 11 Nov (Fri 13, Thu 12, Wed 11).
    clock.set(almaty(2026, 11, 10, 23, 59))
    assert await run_timers(first) == 0
    clock.set(almaty(2026, 11, 11, 0, 1))
    assert await run_timers(first) == 1
    assert await run_timers(first) == 0
    [reminder] = first.events(DeadlineApproaching)
    assert (reminder.appeal_id, reminder.kind, reminder.deadline) == (
        "a1",
        "control",
        date(2026, 11, 16),
    )
    assert reminder.supervisor_id == "akim"  # from deputy-housing's directory entry
    await stop(first)

    # Down over the control date; started again on 17 Nov, the scan at start catches up.
    clock.set(almaty(2026, 11, 17, 9, 0))
    second = await start_rig(clock)
    [overdue] = await overdue_events_after_start(second, 1)
    assert (overdue.appeal_id, overdue.kind, overdue.deadline) == (
        "a1",
        "control",
        date(2026, 11, 16),
    )
    assert second.events(DeadlineApproaching) == []  # not again after the restart
    assert await run_timers(second) == 0
    await stop(second)

    third = await start_rig(clock)
    await asyncio.sleep(0.3)
    await third.settle()
    assert third.events(AppealOverdue) == [] and await run_timers(third) == 0

    # The legal deadline (Mon 23 Nov) passes: one more, of kind "legal".
    clock.set(almaty(2026, 11, 24, 0, 5))
    assert await run_timers(third) == 1
    [legal] = third.events(AppealOverdue)
    assert (legal.kind, legal.deadline) == ("legal", date(2026, 11, 23))
    case = await third.case("a1")
    assert [(h["what"], h["kind"]) for h in case["history"]] == [
        ("routed", None),
        ("reminded", "control"),
        ("overdue", "control"),
        ("overdue", "legal"),
    ]
    assert case["overdue"] is True and case["days_left"] == -8
    answered = await third.case("a2")
    assert [h["what"] for h in answered["history"]] == ["routed", "answered"]


async def test_missed_reminder_is_not_sent_late(start_rig: RigFactory) -> None:
    # Routing was down from before the reminder until after the control date: only the
    # overdue notice goes out, not a "3 days left" for a date already gone.
    clock = Clock(RECORDED_AT + timedelta(minutes=1))
    first = await start_rig(clock)
    await first.record("a1")
    await stop(first)
    clock.set(almaty(2026, 11, 17, 10, 0))
    second = await start_rig(clock)
    [overdue] = await overdue_events_after_start(second, 1)
    assert overdue.kind == "control"
    assert second.events(DeadlineApproaching) == []
    assert await run_timers(second) == 0


async def test_extension_gives_a_new_deadline_that_fires_again(rig: Rig) -> None:
    await rig.record("a1")
    rig.clock.set(almaty(2026, 11, 24, 1, 0))
    assert await run_timers(rig) == 3 - 1  # overdue control + legal (the reminder is stale)
    r = await rig.post(
        "/api/v1/cases/a1/extend",
        {"legal_deadline": "2026-12-21", "control_date": "2026-12-18", "reason": "r", "by": "c"},
    )
    assert r.status_code == 200, r.text
    assert (await rig.case("a1"))["overdue"] is False
    # Reminder 3 working days before Fri 18 Dec: Thu 17 (1), Wed 16 is Independence Day,
    # Tue 15 (2), Mon 14 (3).
    rig.clock.set(almaty(2026, 12, 13, 23, 0))
    assert await run_timers(rig) == 0
    rig.clock.set(almaty(2026, 12, 14, 0, 1))
    assert await run_timers(rig) == 1
    rig.clock.set(almaty(2026, 12, 22, 0, 1))
    assert await run_timers(rig) == 2
    kinds = [(e.kind, e.deadline) for e in rig.events(AppealOverdue)]
    assert kinds == [
        ("control", date(2026, 11, 16)),
        ("legal", date(2026, 11, 23)),
        ("control", date(2026, 12, 18)),
        ("legal", date(2026, 12, 21)),
    ]
    assert [e.deadline for e in rig.events(DeadlineApproaching)] == [date(2026, 12, 18)]


async def test_lead_is_a_setting(start_rig: RigFactory) -> None:
    rig = await start_rig(reminder_lead_working_days=1)
    await rig.record("a1")
    rig.clock.set(almaty(2026, 11, 12, 12, 0))  # 2 working days before: not yet
    assert await run_timers(rig) == 0
    rig.clock.set(almaty(2026, 11, 13, 0, 1))  # Fri 13 Nov, 1 working day before Mon 16
    assert await run_timers(rig) == 1
