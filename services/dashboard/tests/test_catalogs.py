"""Every text on the dashboard exists in Kazakh and in Russian."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from dashboard import audit, reference
from dashboard.csvexport import COLUMNS, STATS_COLUMNS
from dashboard.i18n import catalog
from dashboard.models import ROLES
from dialog_contracts.routing_api import CASE_SORTS, CASE_STATES

PACKAGE = Path(str(resources.files("dashboard")))
LITERAL = re.compile(r"""\bt\(\s*["']([a-z0-9_.-]+)["']""")
CODES = re.compile(r"""(?:PageError|AnswerRejected)\([^)]*?["']([a-z_]+)["']""")
ACCOUNT_CODES = re.compile(r"""AccountInvalid\(\s*["'][a-z_]+["'],\s*["']([a-z_]+)["']""")
# Keys built from a value: each value that can occur needs its text.
DYNAMIC = {
    "status": CASE_STATES,
    "sort": CASE_SORTS,
    "role": ROLES,
    "audit": audit.ACTIONS,
    "category": ("question", "violation"),
    "language": ("kk", "ru"),
    "history": (
        "routed",
        "opened",
        "forwarded",
        "extended",
        "reminded",
        "overdue",
        "answered",
        "answer_posted",
        "answer_correction",
        "notification",
        "note",
        "subject",
        "rated_helpful",
        "rated_not_helpful",
        "answer_confirmed",
        "follow_up_requested",
    ),
    "reason": ("not_answered", "unclear", "late", "other"),
    "dispute": ("open", "confirmed", "withdrawn"),
    "disputed_done": ("confirm", "follow_up"),
    "state": ("pending", "sending", "sent", "delivered", "held", "failed"),
    "purpose": (
        "appeal_routed",
        "appeal_recorded",
        "answer_posted",
        "receipt_failed",
        "deadline_approaching",
        "appeal_overdue",
        "appeal_overdue_supervisor",
        "appeal_forwarded",
        "appeal_extended",
        "follow_up_requested",
        "answer_confirmed",
        "follow_up_official",
    ),
    "csv": COLUMNS,
    "reference_state": ("draft", "published"),
    "reference_action": ("create", "edit", "publish", "unpublish", "from_answer"),
    "reference_field": (*reference.FIELDS, "state"),
    "stats_csv": STATS_COLUMNS,
    "stats": ("level_official", "level_department"),
}


def used_keys() -> set[str]:
    keys: set[str] = set()
    for path in [*PACKAGE.rglob("*.html"), *PACKAGE.rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        keys |= {k for k in LITERAL.findall(text) if not k.endswith(".")}
        if path.suffix == ".py":
            keys |= {f"error.{c}" for c in CODES.findall(text)}
            keys |= {f"error.{c}" for c in ACCOUNT_CODES.findall(text)}
    for prefix, values in DYNAMIC.items():
        keys |= {f"{prefix}.{v}" for v in values}
    keys |= {"error.login_wrong", "error.too_many_logins", "error.login_required"}
    return keys


def test_both_catalogs_have_the_same_keys_and_no_empty_text() -> None:
    kk, ru = catalog("kk"), catalog("ru")
    assert set(kk) == set(ru), set(kk) ^ set(ru)
    assert all(v.strip() for v in [*kk.values(), *ru.values()])


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_every_key_the_pages_use_is_in_the_catalog(lang: str) -> None:
    missing = sorted(used_keys() - set(catalog(lang)))  # type: ignore[arg-type]
    assert not missing, f"missing in {lang}.json: {missing}"
