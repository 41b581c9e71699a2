"""The notifier against nx-27017, the bus and the local SMSC server: right text, right person,
right language, exactly once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from dialog_contracts import (
    AnswerPosted,
    AppealExpired,
    AppealExtended,
    AppealForwarded,
    AppealOverdue,
    AppealRecorded,
    AppealRouted,
    DeadlineApproaching,
    Envelope,
    EventData,
    HealthChange,
    KioskHealthChanged,
    Localized,
    OfficialContactChanged,
    ReceiptFailed,
    VideoRef,
)
from dialog_platform.bus import InProcessBus, RetryPolicy
from dialog_platform.documents import connect
from dialog_platform.testing.smsc import LOGIN, PASSWORD, FakeSmscServer
from notifier import handlers
from notifier.service import Notifier
from notifier.settings import NotifierSettings
from notifier.smsc import SmscClient

ALMATY = ZoneInfo("Asia/Almaty")
CITIZEN = "+77012345678"
OFFICIALS = {
    "deputy-housing": {"phone": "+77010000004", "language": "ru", "supervisor_id": "akim"},
    "akim": {"phone": "+77010000001", "language": "kk", "supervisor_id": None},
}


def contact(official_id: str, version: int = 1, **changes: Any) -> OfficialContactChanged:
    fields: dict[str, Any] = {**OFFICIALS.get(official_id, {}), **changes}
    return OfficialContactChanged(
        official_id=official_id,
        version=version,
        full_name=Localized(kk=official_id, ru=official_id),
        **fields,
    )


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Rig:
    bus: InProcessBus
    notifier: Notifier
    smsc: FakeSmscServer
    clock: Clock
    contacts: handlers.Contacts
    dead: list[str]

    async def publish(self, data: EventData, times: int = 1) -> None:
        envelope = Envelope.wrap(data, source="/test")
        for _ in range(times):
            await self.bus.publish(envelope, data.routing_key())
        # What the component's sender loop does right after a handler records an SMS.
        await self.notifier.send_due()

    def texts_to(self, phone: str) -> list[str]:
        return [m.text for m in self.smsc.state.sent_to(phone)]


@pytest.fixture
def smsc_server() -> Iterator[FakeSmscServer]:
    with FakeSmscServer() as server:
        yield server


@pytest.fixture
async def rig(mongo_url: str, db_prefix: str, smsc_server: FakeSmscServer) -> AsyncIterator[Rig]:
    mongo = connect(mongo_url)
    db = mongo[f"{db_prefix}_notifier"]
    clock = Clock(datetime(2026, 11, 23, 6, 0, tzinfo=UTC))  # Monday 11:00 in Almaty
    async with httpx.AsyncClient() as http:
        notifier = Notifier(
            db=db,
            smsc=SmscClient(
                http=http,
                base_url=smsc_server.url,
                login=LOGIN,
                password=PASSWORD,
                apikey="",
                sender="Dialog",
            ),
            clock=clock,
            quiet_start=time(21),
            quiet_end=time(8),
            timezone=ALMATY,
        )
        dead: list[str] = []

        async def dead_letter(envelope: Envelope, consumer: str, reason: str) -> None:
            dead.append(reason)

        bus = InProcessBus(
            retry=RetryPolicy(max_attempts=4, delays_s=(0.05, 0.05, 0.05)), dead_letter=dead_letter
        )
        settings = NotifierSettings(
            operator_phone="+77017770000",
            operator_phones={"ЦОН №2": "+77017770002"},
            tracking_url="https://d.kz/track",
            dashboard_url="https://d.kz/dashboard",
        )
        # The read model as routing's OfficialContactChanged events leave it; routing itself is
        # never started here.
        contacts = handlers.Contacts(db=db)
        handlers.subscribe(bus, notifier, contacts, settings, "http://127.0.0.1:8080")
        await bus.start()
        from notifier import repository

        await repository.create_indexes(db)
        rig = Rig(
            bus=bus, notifier=notifier, smsc=smsc_server, clock=clock, contacts=contacts, dead=dead
        )
        for official_id in OFFICIALS:
            await rig.publish(contact(official_id))
        yield rig
        await bus.close()
    await mongo.drop_database(f"{db_prefix}_notifier")
    await mongo.close()


def recorded(appeal_id: str = "a1", language: str = "kk") -> AppealRecorded:
    return AppealRecorded(
        appeal_id=appeal_id,
        registration_number="2026-000123-8",
        kiosk_id="booth-1",
        official_id="deputy-housing",
        category="question",
        language=language,  # type: ignore[arg-type]
        phone=CITIZEN,
        recorded_at=datetime(2026, 11, 23, 5, 0, tzinfo=UTC),
        control_date=date(2026, 12, 7),
        legal_deadline=date(2026, 12, 14),
        video=VideoRef(key="v.webm", duration_s=60, size=1000, sha256="0" * 64),
    )


def routed(appeal_id: str = "a1") -> AppealRouted:
    return AppealRouted(
        appeal_id=appeal_id,
        registration_number="2026-000123-8",
        official_id="deputy-housing",
        addressed_official_id="deputy-housing",
        language="kk",
        control_date=date(2026, 12, 7),
        legal_deadline=date(2026, 12, 14),
        routed_at=datetime(2026, 11, 23, 5, 1, tzinfo=UTC),
    )


async def test_citizen_gets_the_receipt_copy_once_in_their_language(rig: Rig) -> None:
    await rig.publish(recorded(language="kk"), times=3)
    [text] = rig.texts_to(CITIZEN)
    assert "2026-000123-8" in text and "07.12.2026" in text and "d.kz/track" in text
    assert "жауап" in text  # Kazakh


async def test_official_gets_the_new_appeal_in_the_officials_language(rig: Rig) -> None:
    await rig.publish(routed(), times=2)
    [text] = rig.texts_to("+77010000004")
    assert text.startswith("Новое обращение 2026-000123-8") and "d.kz/dashboard" in text


async def test_answer_goes_to_the_citizen_of_that_appeal(rig: Rig) -> None:
    await rig.publish(recorded(appeal_id="a2", language="ru"))
    await rig.publish(
        AnswerPosted(
            appeal_id="a2",
            registration_number="2026-000123-8",
            official_id="deputy-housing",
            answered_at=rig.clock.now,
            has_video=True,
        )
    )
    texts = rig.texts_to(CITIZEN)
    assert len(texts) == 2 and texts[1].startswith("Ответ на 2026-000123-8 готов")


async def test_overdue_tells_the_official_and_the_supervisor(rig: Rig) -> None:
    await rig.publish(
        AppealOverdue(
            appeal_id="a3",
            registration_number="2026-000123-8",
            official_id="deputy-housing",
            supervisor_id="akim",
            deadline=date(2026, 12, 7),
            kind="control",
        )
    )
    assert rig.texts_to("+77010000004")[0].startswith("Просрочено обращение")
    assert rig.texts_to("+77010000001")[0].startswith("Мерзімі өтті")  # the akim reads Kazakh


async def test_receipt_failure_goes_to_the_operator(rig: Rig) -> None:
    await rig.publish(
        ReceiptFailed(
            appeal_id="a4",
            kiosk_id="booth-7",
            copy_number=1,
            reason="paper out",
            failed_at=rig.clock.now,
        )
    )
    [text] = rig.texts_to("+77017770000")
    assert "booth-7" in text and "paper out" in text


async def test_gateway_errors_twice_then_one_sms(rig: Rig) -> None:
    rig.smsc.state.fail_next(500)
    rig.smsc.state.fail_next(500)
    await rig.publish(recorded(appeal_id="a5"))  # the handler only records it
    assert rig.texts_to(CITIZEN) == [] and rig.dead == []
    [n] = await rig.notifier.notifications("a5")
    assert n["state"] == "sending"
    for _ in range(5):  # the sender's backoff, capped at a minute, passes
        rig.clock.now += timedelta(seconds=61)
        await rig.notifier.send_due()
    assert len(rig.texts_to(CITIZEN)) == 1
    [n] = await rig.notifier.notifications("a5")
    assert n["state"] == "sent" and n["attempts"] == 3


async def test_smsc_down_does_not_hold_the_handler_and_the_sms_goes_out_once_back(
    rig: Rig,
) -> None:
    """SMSC unreachable for a while: no retries of the event, no dead letter, one SMS later."""
    for _ in range(8):
        rig.smsc.state.fail_next(503)
    started = asyncio.get_running_loop().time()
    await rig.bus.publish(Envelope.wrap(routed(appeal_id="a5b"), source="/test"), "appeal.routed")
    assert asyncio.get_running_loop().time() - started < 5.0
    for _ in range(12):
        await rig.notifier.send_due()
        rig.clock.now += timedelta(seconds=61)
    assert len(rig.texts_to("+77010000004")) == 1 and rig.dead == []
    [n] = await rig.notifier.notifications("a5b")
    assert n["state"] == "sent"


async def test_permanent_error_is_recorded_and_not_retried(rig: Rig) -> None:
    rig.smsc.state.permanent_by_phone["77012345678"] = 7
    await rig.publish(recorded(appeal_id="a6"))
    sends = [r for r in rig.smsc.state.requests if r["path"].endswith("send.php")]
    assert len(sends) == 1
    [n] = await rig.notifier.notifications("a6")
    assert n["state"] == "failed" and "phone" in n["reason"]
    assert "2345" not in n["phone"]  # masked for the dashboard


async def test_a_send_whose_outcome_was_lost_is_not_repeated(rig: Rig) -> None:
    """SMSC accepted, then the process died before recording it: the look-up finds it."""
    from notifier import repository

    await rig.publish(recorded(appeal_id="a7"))
    assert len(rig.texts_to(CITIZEN)) == 1
    # Put the record back to where a crash between SMSC's answer and our write leaves it.
    await repository.set_state(
        rig.notifier.db,
        key=f"a7:appeal_recorded:{CITIZEN}",
        state=repository.SENDING,
        now=rig.clock.now,
        not_before=rig.clock.now,  # its lease ran out with the process
    )
    await rig.publish(recorded(appeal_id="a7"))
    assert len(rig.texts_to(CITIZEN)) == 1
    statuses = [r for r in rig.smsc.state.requests if r["path"].endswith("status.php")]
    assert len(statuses) == 1
    [n] = await rig.notifier.notifications("a7")
    assert n["state"] == "sent"


async def test_quiet_hours_hold_officials_messages_until_morning(rig: Rig) -> None:
    rig.clock.now = datetime(2026, 11, 23, 22, 30, tzinfo=ALMATY)
    await rig.publish(routed(appeal_id="a8"))
    await rig.publish(recorded(appeal_id="a8"))
    assert rig.texts_to("+77010000004") == []  # held
    assert len(rig.texts_to(CITIZEN)) == 1  # citizens are not held
    rig.clock.now = datetime(2026, 11, 24, 7, 59, tzinfo=ALMATY)
    assert await rig.notifier.release_held() == 0
    rig.clock.now = datetime(2026, 11, 24, 8, 0, tzinfo=ALMATY) + timedelta(seconds=1)
    assert await rig.notifier.release_held() == 1
    assert len(rig.texts_to("+77010000004")) == 1


async def test_overdue_is_not_held_at_night(rig: Rig) -> None:
    rig.clock.now = datetime(2026, 11, 23, 23, 0, tzinfo=ALMATY)
    await rig.publish(
        DeadlineApproaching(
            appeal_id="a9",
            registration_number="2026-000123-8",
            official_id="deputy-housing",
            supervisor_id="akim",
            deadline=date(2026, 12, 7),
            kind="control",
        )
    )
    await rig.publish(
        AppealOverdue(
            appeal_id="a9",
            registration_number="2026-000123-8",
            official_id="deputy-housing",
            supervisor_id="akim",
            deadline=date(2026, 12, 7),
            kind="legal",
        )
    )
    texts = rig.texts_to("+77010000004")
    assert len(texts) == 1 and texts[0].startswith("Просрочено")


async def test_citizen_is_told_of_each_forward_once_in_their_language(rig: Rig) -> None:
    await rig.publish(recorded(appeal_id="b1", language="ru"))
    first = AppealForwarded(
        appeal_id="b1",
        registration_number="2026-000123-8",
        from_official_id="deputy-housing",
        to_official_id="akim",
        language="ru",
        forwarded_at=datetime(2026, 11, 24, 6, 0, tzinfo=UTC),
    )
    await rig.publish(first, times=3)
    # Forwarded again later (back to the first official): news again.
    await rig.publish(
        first.model_copy(
            update={
                "from_official_id": "akim",
                "to_official_id": "deputy-housing",
                "forwarded_at": datetime(2026, 11, 25, 6, 0, tzinfo=UTC),
            }
        )
    )
    texts = rig.texts_to(CITIZEN)
    assert len(texts) == 3  # the receipt copy, then one per forward
    assert texts[1] == "Обращение 2026-000123-8 перенаправлено другому должностному лицу"
    assert texts[2] == texts[1]


async def test_citizen_is_told_the_new_deadline_of_an_extension(rig: Rig) -> None:
    await rig.publish(recorded(appeal_id="b2", language="kk"))
    extended = AppealExtended(
        appeal_id="b2",
        registration_number="2026-000123-8",
        official_id="deputy-housing",
        language="kk",
        control_date=date(2026, 12, 21),
        legal_deadline=date(2027, 1, 15),
        extended_at=datetime(2026, 11, 30, 6, 0, tzinfo=UTC),
    )
    await rig.publish(extended, times=2)
    texts = rig.texts_to(CITIZEN)
    assert len(texts) == 2
    assert texts[1] == "2026-000123-8 өтініш мерзімі 15.01.2027 дейін ұзартылды"


async def test_each_missed_deadline_is_its_own_alert_but_redelivery_is_not(rig: Rig) -> None:
    def overdue(kind: str, deadline: date) -> AppealOverdue:
        return AppealOverdue(
            appeal_id="b3",
            registration_number="2026-000123-8",
            official_id="deputy-housing",
            supervisor_id="akim",
            deadline=deadline,
            kind=kind,  # type: ignore[arg-type]
        )

    await rig.publish(overdue("control", date(2026, 12, 7)), times=2)
    await rig.publish(overdue("legal", date(2026, 12, 14)), times=2)
    official = rig.texts_to("+77010000004")
    assert [t.split("срок был ")[1] for t in official] == ["07.12.2026", "14.12.2026"]
    assert len(rig.texts_to("+77010000001")) == 2


async def test_a_case_forwarded_back_reaches_its_official_again(rig: Rig) -> None:
    await rig.publish(routed(appeal_id="b4"), times=2)
    again = routed(appeal_id="b4").model_copy(
        update={"routed_at": datetime(2026, 11, 26, 5, 0, tzinfo=UTC)}
    )
    await rig.publish(again, times=2)
    assert len(rig.texts_to("+77010000004")) == 2


async def test_a_contact_change_applies_once_and_an_older_one_never_wins(rig: Rig) -> None:
    await rig.publish(contact("akim", version=3, phone="+77010000009"), times=2)
    await rig.publish(contact("akim", version=2, phone="+77010000008"))  # a late retry
    found = await rig.contacts.official("akim")
    assert found is not None and found["phone"] == "+77010000009" and found["version"] == 3


async def test_an_official_not_yet_known_waits_for_the_directory_event(rig: Rig) -> None:
    """AppealRouted overtook the official's OfficialContactChanged: the SMS is not dropped."""
    late = routed(appeal_id="c1").model_copy(update={"official_id": "new-official"})
    waiting = asyncio.create_task(rig.publish(late))
    await asyncio.sleep(0.3)
    assert rig.texts_to("+77010000077") == []
    await rig.publish(contact("new-official", phone="+77010000077", language="ru"))
    await asyncio.wait_for(waiting, 30)
    assert len(rig.texts_to("+77010000077")) == 1
    assert rig.dead == []


async def test_an_official_without_a_phone_is_skipped(rig: Rig) -> None:
    await rig.publish(contact("no-phone", phone=None))
    await rig.publish(routed(appeal_id="c2").model_copy(update={"official_id": "no-phone"}))
    assert await rig.notifier.notifications("c2") == []
    assert rig.dead == []


async def test_an_sms_recorded_without_its_due_entry_is_sent_after_a_restart(rig: Rig) -> None:
    """Recorded by a version before `due`, or a crash between the two writes: still sent once."""
    from notifier import repository

    data = recorded(appeal_id="a9")
    await rig.bus.publish(Envelope.wrap(data, source="/test"), data.routing_key())
    key = f"a9:appeal_recorded:{CITIZEN}"
    await rig.notifier.db.due.delete_one({"_id": key})
    assert await rig.notifier.send_due() == 0  # nothing due without the entry
    assert rig.texts_to(CITIZEN) == []
    assert await repository.restore_due(rig.notifier.db) == 1  # what the component does at start
    assert await repository.restore_due(rig.notifier.db) == 0
    assert await rig.notifier.send_due() == 1
    assert await rig.notifier.send_due() == 0
    assert len(rig.texts_to(CITIZEN)) == 1
    assert await rig.notifier.db.due.count_documents({}) == 0


async def test_a_due_entry_left_behind_by_a_crash_after_sending_sends_nothing_again(
    rig: Rig,
) -> None:
    """A crash between marking an SMS sent and removing its entry: the entry goes, no resend."""
    data = recorded(appeal_id="a10")
    await rig.bus.publish(Envelope.wrap(data, source="/test"), data.routing_key())
    key = f"a10:appeal_recorded:{CITIZEN}"
    assert await rig.notifier.send_due() == 1
    await rig.notifier.db.due.insert_one(
        {"_id": key, "not_before": datetime(2000, 1, 1, tzinfo=UTC)}
    )
    assert await rig.notifier.send_due() == 0
    assert len(rig.texts_to(CITIZEN)) == 1
    assert await rig.notifier.db.due.count_documents({}) == 0
    stored = await rig.notifier.db.notifications.find_one({"_id": key})
    assert stored is not None and stored["state"] == "sent" and stored["attempts"] == 1


async def test_past_the_storage_period_the_citizens_phone_is_gone_and_the_sms_stay(
    rig: Rig,
) -> None:
    await rig.publish(recorded(appeal_id="old", language="ru"))
    await rig.publish(routed(appeal_id="old"))
    expired = AppealExpired(
        appeal_id="old",
        registration_number="2026-000123-8",
        closed_at=rig.clock.now,
        expired_at=rig.clock.now + timedelta(days=1826),
        kinds=["video", "personal"],
    )
    await rig.publish(expired, times=2)
    assert rig.dead == []
    db = rig.notifier.db
    assert await db.citizens.find_one({"_id": "old"}) is None
    sms = [d async for d in db.notifications.find({"appeal_id": "old"})]
    assert {d["purpose"] for d in sms} == {"appeal_recorded", "appeal_routed"}
    assert not [d for d in sms if CITIZEN in str(d)]  # the keys named the number too
    # The official's SMS keeps the official's number: it is not the citizen's data.
    assert [d["phone"] for d in sms if d["purpose"] == "appeal_routed"] == ["+77010000004"]


def booth_health(
    condition: str, ok: bool, since: datetime, *, center: str = "ЦОН №1", detail: str = ""
) -> KioskHealthChanged:
    return KioskHealthChanged(
        kiosk_id="booth-7",
        center=center,
        location=center,
        up=condition != "offline" or ok,
        printer_state="out_of_paper" if condition == "printer" and not ok else "ready",
        changes=(
            HealthChange(condition=condition, ok=ok, since=since, detail=detail),  # type: ignore[arg-type]
        ),
        changed_at=since + timedelta(minutes=0 if not ok else 10),
    )


async def test_operator_is_told_once_per_booth_problem_and_once_when_it_ends(rig: Rig) -> None:
    operator = "+77017770000"
    since = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    await rig.publish(booth_health("printer", False, since, detail="out_of_paper"), times=3)
    [down] = rig.texts_to(operator)
    assert down.startswith("booth-7: принтер не печатает (нет бумаги)")
    await rig.publish(booth_health("printer", True, since, detail="out_of_paper"), times=2)
    assert rig.texts_to(operator)[1:] == ["booth-7: принтер снова печатает, терминал работает"]
    # The next time paper runs out is another occurrence, and another SMS.
    later = since + timedelta(hours=2)
    await rig.publish(booth_health("printer", False, later, detail="out_of_paper"))
    assert len(rig.texts_to(operator)) == 3
    # A booth first seen (nothing changed) sends nothing; a center with its own operator
    # gets its booths' news there.
    quiet = booth_health("camera", False, since).model_copy(update={"changes": ()})
    await rig.publish(quiet)
    await rig.publish(booth_health("camera", False, since, center="ЦОН №2"))
    assert len(rig.texts_to(operator)) == 3
    [camera] = rig.texts_to("+77017770002")
    assert "камера недоступна" in camera


async def test_the_senders_send_new_sms_at_once_and_retries_when_they_come_due(
    rig: Rig,
) -> None:
    """The component's loop: each new SMS wakes a sender; a retry is found when it is due."""
    loop = asyncio.create_task(rig.notifier.run(idle_s=0.2, senders=4))
    try:
        rig.smsc.state.fail_next(500)  # the first attempt of the first SMS fails
        for n in range(6):
            envelope = Envelope.wrap(recorded(appeal_id=f"s{n}"), source="/test")
            await rig.bus.publish(envelope, "appeal.recorded")

        async def sent(count: int) -> bool:
            for _ in range(100):
                if len(rig.texts_to(CITIZEN)) >= count:
                    return True
                await asyncio.sleep(0.05)
            return False

        # Five go out with no call but the handlers'; the failed one waits for its backoff.
        assert await sent(5)
        await asyncio.sleep(0.5)
        assert len(rig.texts_to(CITIZEN)) == 5
        rig.clock.now += timedelta(seconds=61)
        assert await sent(6)  # found by the loop's own look, with no new SMS to wake it

        async def states() -> list[str]:
            return [(await rig.notifier.notifications(f"s{n}"))[0]["state"] for n in range(6)]

        # The SMSC accepts a text a moment before the sender records it as sent.
        for _ in range(100):
            if await states() == ["sent"] * 6:
                break
            await asyncio.sleep(0.05)
        assert await states() == ["sent"] * 6
        assert len(rig.texts_to(CITIZEN)) == 6
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop


async def test_a_backlog_come_due_goes_out_at_the_loops_next_look(rig: Rig) -> None:
    """After an SMSC outage, every SMS waiting for its retry goes out together once due.

    A sender woken for one new SMS sends one; the loop's own look, finding retries due, has
    them send until none is left, not one SMS per sender per look.
    """
    backlog = 30
    loop = asyncio.create_task(rig.notifier.run(idle_s=0.5, senders=4))
    try:
        for _ in range(backlog):
            rig.smsc.state.fail_next(500)
        for n in range(backlog):
            envelope = Envelope.wrap(recorded(appeal_id=f"b{n}"), source="/test")
            await rig.bus.publish(envelope, "appeal.recorded")

        def attempts() -> int:
            return sum(r["path"].endswith("/send.php") for r in rig.smsc.state.requests)

        async def until(check: Callable[[], bool], within_s: float) -> bool:
            deadline = asyncio.get_running_loop().time() + within_s
            while asyncio.get_running_loop().time() < deadline:
                if check():
                    return True
                await asyncio.sleep(0.02)
            return check()

        assert await until(lambda: attempts() == backlog, 10)
        assert rig.texts_to(CITIZEN) == []
        rig.clock.now += timedelta(seconds=61)
        # One look (every 0.5 s) and the senders' drain; one SMS a sender a look would take 4 s.
        assert await until(lambda: len(rig.texts_to(CITIZEN)) == backlog, 1.8)
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
