"""Every text on the dashboard exists in Kazakh and in Russian."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from dashboard import audit, reference
from dashboard.csvexport import COLUMNS, STATS_COLUMNS
from dashboard.i18n import Translator, catalog
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


def test_an_age_reads_in_the_pages_language_in_its_two_largest_units() -> None:
    kk, ru = Translator("kk"), Translator("ru")
    assert [ru.age(s) for s in (None, 39.6, 192, 3600, 7500, 4 * 86400 + 3 * 3600)] == [
        "—",
        "39 с",
        "3 мин 12 с",
        "1 ч",
        "2 ч 5 мин",
        "4 дн. 3 ч",
    ]
    assert [kk.age(s) for s in (0, 7500, 2 * 86400)] == ["0 с", "2 сағ 5 мин", "2 күн"]


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_no_two_links_of_a_roles_menu_read_the_same(lang: str) -> None:
    """The admin's menu had «Справочник» twice: the officials and the common questions."""
    base = (PACKAGE / "templates" / "base.html").read_text(encoding="utf-8")
    nav = base.split("<nav>")[1].split("</nav>")[0]
    texts = catalog(lang)  # type: ignore[arg-type]
    for role in re.split(r"\{% (?:el)?if account\.role", nav)[1:]:
        labels = [texts[k] for k in LITERAL.findall(role)]
        assert len(labels) == len(set(labels)), labels
