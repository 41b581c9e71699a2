"""routing's cases API terms: what routing mounts and what its callers send are the same list."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dialog_contracts.routing_api import (
    CASE_ACTIONS,
    CASE_STATES,
    CaseDispute,
    CaseQuery,
    FollowUp,
    Forward,
    case_path,
)


def test_each_action_has_its_own_path() -> None:
    actions = [a.action for a in CASE_ACTIONS]
    assert len(set(actions)) == len(actions)
    assert case_path("a/1", FollowUp.action) == "/api/v1/cases/a%2F1/follow-up"


def test_a_body_refuses_a_field_it_does_not_know() -> None:
    with pytest.raises(ValidationError):
        Forward.model_validate({"to_official_id": "akim", "reason": "", "by": "c", "typo": 1})


def test_a_query_sends_only_what_is_set() -> None:
    assert CaseQuery(official_id="akim").params() == {
        "official_id": "akim",
        "sort": "control_date",
        "limit": 50,
    }
    assert "open" not in CASE_STATES  # a view of the inbox, not a state a case is in


def test_a_dispute_reads_what_routing_answers() -> None:
    seen = CaseDispute.model_validate(
        {"state": "follow_up", "control_date": "2026-03-02", "note": None, "round": 2}
    )
    assert seen.control_date is not None and seen.control_date.isoformat() == "2026-03-02"
