"""Each event survives a round trip through its saved JSON sample, and old consumers stay safe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from dialog_contracts import (
    BINDINGS,
    EVENTS,
    EVENTS_BY_TYPE,
    AppealExtended,
    AppealForwarded,
    AppealRecorded,
    Envelope,
    ReceiptRequested,
    queue_name,
)

SAMPLES = Path(__file__).parent / "samples"


def sample(event: type) -> dict:  # type: ignore[type-arg]
    path = SAMPLES / f"{event.ROUTING_KEY.replace('.', '-')}.json"
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.__name__)
def test_round_trip_over_saved_sample(event: type) -> None:
    raw = sample(event)
    envelope = Envelope.from_bytes(json.dumps(raw).encode())
    assert envelope.specversion == "1.0"
    assert envelope.type == event.TYPE
    data = envelope.parse(event)
    again = Envelope.wrap(data, source=envelope.source, id=envelope.id).model_copy(
        update={"time": envelope.time}
    )
    assert json.loads(again.to_bytes()) == raw


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.__name__)
def test_unknown_fields_are_ignored(event: type) -> None:
    raw = sample(event)
    raw["data"]["added_in_a_later_version"] = {"anything": [1, 2]}
    raw["extension_attribute"] = "x"
    data = Envelope.model_validate(raw).parse(event)
    assert "added_in_a_later_version" not in data.model_dump()


def test_parse_refuses_another_type() -> None:
    envelope = Envelope.model_validate(sample(AppealRecorded))
    with pytest.raises(ValueError, match="is not"):
        envelope.parse(ReceiptRequested)


def test_bad_data_is_refused() -> None:
    raw = sample(AppealRecorded)
    raw["data"]["phone"] = "8 701 234 56 78"  # not E.164
    with pytest.raises(ValidationError):
        Envelope.model_validate(raw).parse(AppealRecorded)


def test_access_code_never_in_a_broadcast_event() -> None:
    for event in EVENTS:
        if event is ReceiptRequested:
            continue
        assert "access_code" not in event.model_fields, event.__name__


def test_receipts_route_to_one_kiosk() -> None:
    data = Envelope.model_validate(sample(ReceiptRequested)).parse(ReceiptRequested)
    assert data.routing_key() == f"receipt.requested.{data.kiosk_id}"
    assert all(b.event is not ReceiptRequested for b in BINDINGS)


def test_topology_names() -> None:
    assert queue_name("dialog", "routing", AppealRecorded) == "routing.appeal-recorded"
    assert queue_name("t1", "routing", AppealRecorded) == "t1.routing.appeal-recorded"
    assert set(EVENTS_BY_TYPE) == {e.TYPE for e in EVENTS}
    assert all(e.TYPE.startswith("kz.dialog.") and e.TYPE.endswith(".v1") for e in EVENTS)


def test_forward_and_extension_reasons_stay_out_of_broadcast_events() -> None:
    # The reason is free text written by an official; it stays in routing's case history.
    for event in (AppealForwarded, AppealExtended):
        assert not {"reason", "text"} & set(event.model_fields), event.__name__
        assert any(b.event is event and b.consumer == "notifier" for b in BINDINGS)


def test_the_officials_phone_never_goes_to_the_booth() -> None:
    from dialog_contracts import OfficialChanged, OfficialContactChanged

    assert "phone" not in OfficialChanged.model_fields
    assert {b.consumer for b in BINDINGS if b.event is OfficialChanged} == {"kiosk-gateway"}
    assert {b.consumer for b in BINDINGS if b.event is OfficialContactChanged} == {"notifier"}


def test_a_deputy_window_is_on_the_wire_as_from_and_to() -> None:
    from datetime import date

    from dialog_contracts import DeputyWindow, acting_deputy_id

    window = DeputyWindow.model_validate(
        {"deputy_id": "akim", "from": "2026-11-23", "to": "2026-11-27"}
    )
    assert window.model_dump(mode="json") == {
        "deputy_id": "akim",
        "from": "2026-11-23",
        "to": "2026-11-27",
    }
    assert acting_deputy_id(window, date(2026, 11, 27)) == "akim"
    assert acting_deputy_id(window.model_dump(mode="json"), date(2026, 11, 28)) is None


def test_the_applicants_name_and_iin_are_bound_to_the_dashboard_only() -> None:
    from dialog_contracts import ApplicantIdentified

    consumers = {b.consumer for b in BINDINGS if b.event is ApplicantIdentified}
    assert consumers == {"dashboard"}
    # No event of the appeal carries them: routing, the notifier and the printer never get
    # them (OfficialChanged's full_name is the official's, public on the booth's picker).
    for event in EVENTS:
        if event is not ApplicantIdentified and "appeal_id" in event.model_fields:
            assert not {"full_name", "iin"} & set(event.model_fields), event.__name__
    data = Envelope.model_validate(sample(ApplicantIdentified)).parse(ApplicantIdentified)
    assert "Нұрланова" not in repr(data) and "900101400013" not in repr(data)


def test_an_applicant_event_without_name_or_iin_is_still_handled() -> None:
    from dialog_contracts import ApplicantIdentified

    raw = sample(ApplicantIdentified)
    del raw["data"]["full_name"], raw["data"]["iin"]
    data = Envelope.model_validate(raw).parse(ApplicantIdentified)
    assert data.full_name is None and data.iin is None


def test_the_citizens_comment_goes_where_cases_are_kept_and_decisions_carry_no_text() -> None:
    from dialog_contracts import AnswerConfirmed, AnswerRated, FollowUpRequested

    # The comment is the citizen's own words: routing keeps the case and shows it; the
    # dashboard, which already keeps the citizen's name, audits the rating without it.
    assert {b.consumer for b in BINDINGS if b.event is AnswerRated} == {"routing", "dashboard"}
    for event in EVENTS:
        if event is not AnswerRated:
            assert "comment" not in event.model_fields, event.__name__
    # The supervisor's note to the citizen stays in routing's case.
    for event in (FollowUpRequested, AnswerConfirmed):
        assert not {"note", "reason", "text"} & set(event.model_fields), event.__name__
        assert {b.consumer for b in BINDINGS if b.event is event} == {"notifier"}
