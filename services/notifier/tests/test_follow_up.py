"""The citizen is told by SMS, once, what became of their "did not help": a new answer asked for
(by when), the answer confirmed (with a note to read), and the new answer when it comes."""

from __future__ import annotations

from datetime import UTC, date, datetime

from dialog_contracts import AnswerConfirmed, AnswerPosted, FollowUpRequested

from .test_notifier import CITIZEN, Rig, recorded
from .test_notifier import rig as rig  # the fixtures
from .test_notifier import smsc_server as smsc_server

NUMBER = "2026-000123-8"


async def test_a_follow_up_and_its_new_answer_reach_the_citizen_once_each(rig: Rig) -> None:
    await rig.publish(recorded(appeal_id="f1", language="ru"))
    answer = AnswerPosted(
        appeal_id="f1",
        registration_number=NUMBER,
        official_id="deputy-housing",
        answered_at=datetime(2026, 11, 20, 6, 0, tzinfo=UTC),
        has_video=False,
    )
    await rig.publish(answer)
    follow_up = FollowUpRequested(
        appeal_id="f1",
        registration_number=NUMBER,
        official_id="deputy-housing",
        language="ru",
        control_date=date(2026, 12, 4),
        round=2,
        requested_at=datetime(2026, 11, 21, 6, 0, tzinfo=UTC),
    )
    await rig.publish(follow_up, times=3)
    # The first answer's correction is no news; the follow-up's new answer is, once.
    await rig.publish(
        answer.model_copy(update={"answered_at": datetime(2026, 11, 20, 7, 0, tzinfo=UTC)})
    )
    new = answer.model_copy(
        update={"answered_at": datetime(2026, 12, 1, 6, 0, tzinfo=UTC), "round": 2}
    )
    await rig.publish(new, times=2)
    # The official has the case back, told once.
    [official] = [t for t in rig.texts_to("+77010000004") if t.startswith("Новый ответ")]
    assert official == f"Новый ответ по {NUMBER} до 04.12.2026 d.kz/dashboard"
    texts = rig.texts_to(CITIZEN)
    assert texts[1:] == [
        f"Ответ на {NUMBER} готов. В кабине или d.kz/track",
        f"По {NUMBER} запрошен новый ответ, срок 04.12.2026",
        f"Ответ на {NUMBER} готов. В кабине или d.kz/track",
    ], texts


async def test_a_confirmation_reaches_the_citizen_once_in_their_language(rig: Rig) -> None:
    await rig.publish(recorded(appeal_id="f2", language="kk"))
    confirmed = AnswerConfirmed(
        appeal_id="f2",
        registration_number=NUMBER,
        official_id="deputy-housing",
        language="kk",
        confirmed_at=datetime(2026, 11, 22, 6, 0, tzinfo=UTC),
    )
    await rig.publish(confirmed, times=2)
    texts = rig.texts_to(CITIZEN)
    assert texts[1:] == [f"{NUMBER} жауабы расталды, түсініктеме: d.kz/track"], texts
