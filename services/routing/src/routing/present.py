"""How routing's documents look to other services (the JSON shapes of the contract)."""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

from dialog_contracts import (
    DeputyWindow,
    Localized,
    OfficialChanged,
    OfficialContactChanged,
    Photo,
)
from dialog_contracts import acting_deputy_id as contract_acting_deputy_id
from dialog_platform.calendar import is_working_day, next_working_day, working_days_between

Doc = dict[str, Any]

# APPC: an appeal outside the official's competence is redirected within 3 working days.
REDIRECT_WINDOW_WORKING_DAYS = 3
HISTORY_FIELDS = ("by", "official_id", "to_official_id", "reason", "deadline", "kind", "topic")


def acting_deputy_id(official: Doc, day: date) -> str | None:
    """The deputy covering `day` for this official, if any (both dates inclusive)."""
    return contract_acting_deputy_id(official.get("deputy"), day)


def public_official(doc: Doc, *, acting: Doc | None = None, today: date | None = None) -> Doc:
    """The directory entry as the booth and the dashboard see it (no phone, no photo bytes)."""
    photo = doc.get("photo") or {}
    version = photo.get("etag", "none")
    deputy = doc.get("deputy")
    acting_view = None
    if acting is not None and deputy:
        acting_view = {
            "deputy_id": acting["_id"],
            "full_name": acting["full_name"],
            "position": acting["position"],
            "until": deputy["to"],
        }
    return {
        "id": doc["_id"],
        "full_name": doc["full_name"],
        "position": doc["position"],
        "competence": doc["competence"],
        "department": doc.get("department"),
        "supervisor_id": doc.get("supervisor_id"),
        "language": doc.get("language", "ru"),
        "active": doc.get("active", True),
        "deputy": (
            {"deputy_id": deputy["deputy_id"], "from": deputy["from"], "to": deputy["to"]}
            if deputy
            else None
        ),
        "acting": acting_view,
        "photo_url": f"/api/v1/directory/officials/{doc['_id']}/photo?v={version}",
    }


def registered_on(case: Doc) -> date:
    return date.fromisoformat(case["recorded_date"])


def redirect_window_passed(case: Doc, today: date) -> bool:
    # An appeal made on a day off counts from the next working day, as its deadlines do.
    registered = registered_on(case)
    counted_from = registered if is_working_day(registered) else next_working_day(registered)
    return working_days_between(counted_from, today) > REDIRECT_WINDOW_WORKING_DAYS


def case_summary(case: Doc, today: date) -> Doc:
    control = date.fromisoformat(case["control_date"])
    open_ = case["status"] != "answered"
    return {
        "appeal_id": case["_id"],
        "registration_number": case["registration_number"],
        "official_id": case["official_id"],
        "addressed_official_id": case["addressed_official_id"],
        "department": case.get("department"),
        "status": case["status"],
        "category": case["category"],
        "language": case["language"],
        "recorded_at": case["recorded_at"],
        "control_date": case["control_date"],
        "legal_deadline": case["legal_deadline"],
        "days_left": (control - today).days,
        "overdue": open_ and control < today,
        "answered_at": case.get("answered_at"),
        "topic": case.get("topic"),
        "summary": case.get("summary") or "",
    }


RATING_FIELDS = ("helped", "reason", "comment", "rated_at")
DISPUTE_FIELDS = ("state", "since", "note", "decided_at", "decided_by")


def _pick(doc: Doc | None, fields: tuple[str, ...]) -> Doc | None:
    return {k: doc.get(k) for k in fields} if doc else None


def case_detail(case: Doc, today: date) -> Doc:
    history = [
        {"at": h["at"], "what": h["what"], **{k: h.get(k) for k in HISTORY_FIELDS}}
        for h in case.get("history", [])
    ]
    return {
        **case_summary(case, today),
        "kiosk_id": case.get("kiosk_id"),
        "phone": case.get("phone"),
        "video": case.get("video"),
        "redirect_window_passed": redirect_window_passed(case, today),
        "legal_hold": case.get("legal_hold"),
        "expired": case.get("expired") or {},
        "history": history,
        "round": case.get("round", 1),
        "rating": _pick(case.get("rating"), RATING_FIELDS),
        "dispute": _pick(case.get("dispute"), DISPUTE_FIELDS),
    }


def official_changed(doc: Doc, photo: Doc | None) -> OfficialChanged:
    """The public directory entry, photo bytes included, for the gateway's read model."""
    deputy = doc.get("deputy")
    return OfficialChanged(
        official_id=doc["_id"],
        version=int(doc.get("version", 1)),
        order=int(doc.get("order", 0)),
        full_name=Localized(**doc["full_name"]),
        position=Localized(**doc["position"]),
        competence=Localized(**doc["competence"]),
        department=Localized(**doc["department"]) if doc.get("department") else None,
        supervisor_id=doc.get("supervisor_id"),
        language=doc.get("language", "ru"),
        active=doc.get("active", True),
        deputy=DeputyWindow.model_validate(deputy) if deputy else None,
        photo=(
            Photo(
                etag=photo["etag"],
                content_type=photo["content_type"],
                data=base64.b64encode(bytes(photo["data"])).decode() if photo.get("data") else None,
            )
            if photo
            else None
        ),
    )


def official_contact_changed(doc: Doc) -> OfficialContactChanged:
    """Where to reach an official by SMS, for the notifier's read model only."""
    return OfficialContactChanged(
        official_id=doc["_id"],
        version=int(doc.get("version", 1)),
        phone=doc.get("phone"),
        language=doc.get("language", "ru"),
        active=doc.get("active", True),
        full_name=Localized(**doc["full_name"]),
        supervisor_id=doc.get("supervisor_id"),
    )
