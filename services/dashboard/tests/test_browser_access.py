"""The dashboard for everyone, in Chromium: axe-core finds nothing serious or critical on any page
an official, the control office or the admin opens, in Kazakh and in Russian; every page starts
with a skip link to its content, under a header of two lines with the account's controls beside
the brand; the inbox's live update leaves the keyboard focus where it was and says how many
appeals came; answer texts carry the language they are written in.
Screenshots under test-output/screenshots/dashboard/."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from dialog_platform.bus.deadletters import StoredDeadLetters
from dialog_platform.testing import dashboard
from dialog_platform.testing.access import axe

from .conftest import PASSWORD, Appeal, Dialog, internal, make_appeal
from .conftest import eventually as until_true
from .test_browser import SHOTS, log_in, page, until
from .test_dead_letters import routed

pytestmark = pytest.mark.browser
__all__ = ["page"]  # the fixture, used by name

LANGS = ("kk", "ru")
SKIP = {"kk": "Мазмұнға өту", "ru": "К содержанию"}
NEW = {"kk": "Жаңа өтініштер: 1", "ru": "Новых обращений: 1"}
DLQ = "a11y-consumer.appeal-routed.dlq"
# The header on two lines at most: the brand and the account's controls (language, help, who,
# log out) side by side on the first, the menu and the search starting on the second. Says what
# is out of place, or "" when nothing is.
HEADER = """(() => {
  const box = (s) => document.querySelector(s)?.getBoundingClientRect();
  const brand = box("header.top .brand"), right = box("header.top .right");
  const nav = box("header.top nav"), search = box("header.top form.search");
  if (right.top >= brand.bottom || right.bottom <= brand.top) return "controls under the brand";
  for (const [name, b] of [["menu", nav], ["search", search]]) {
    if (b && b.top < Math.max(brand.bottom, right.bottom)) return `${name} on the first line`;
  }
  const lines = new Set([...document.querySelectorAll("header.top nav a")]
    .map((a) => Math.round(a.getBoundingClientRect().top)));
  return lines.size > 2 ? `menu on ${lines.size} lines` : "";
})()"""


class Audit:
    """Every page it is shown, in both languages: axe, the skip link, the header, a screenshot."""

    def __init__(self, page: Any, dialog: Dialog) -> None:
        self.page = page
        self.dialog = dialog
        self.violations: dict[str, list[dict[str, Any]]] = {}
        self.skip_missing: list[str] = []
        self.header_wrong: list[str] = []
        self.seen: list[str] = []

    async def visit(self, name: str, path: str) -> None:
        for lang in LANGS:
            # The language switch leads back to the page, in the other language.
            await self.page.goto(f"{self.dialog.url}/dashboard/lang/{lang}?next={path}")
            await self.page.wait_for_load_state("networkidle")
            await self.check(f"{lang}/{name}", lang)

    async def check(self, where: str, lang: str) -> None:
        self.seen.append(where)
        assert await self.page.evaluate("document.documentElement.lang") == lang, where
        await self.page.screenshot(
            path=SHOTS / f"access-{where.replace('/', '-')}.png", full_page=True
        )
        if found := await axe(self.page):
            self.violations[where] = found
        if wrong := await self.page.evaluate(HEADER):
            self.header_wrong.append(f"{where}: {wrong}")
        # The first thing a keyboard reaches is the way past the header to the content (some
        # pages put the focus in a field at once; the link is still the first in tab order).
        first = await self.page.evaluate(
            """(() => {
              const a = document.querySelector('a[href], button, input:not([type=hidden]),'
                + ' select, textarea, [tabindex]:not([tabindex="-1"])');
              const target = document.getElementById("content");
              return [a.textContent.trim(), a.getAttribute("href"), target && target.tagName];
            })()"""
        )
        if first != [SKIP[lang], "#content", "MAIN"]:
            self.skip_missing.append(f"{where}: first in tab order is {first}")

    def report(self) -> str:
        lines = [f"{len(self.seen)} pages checked: {', '.join(self.seen)}"]
        for where, found in self.violations.items():
            for v in found:
                lines.append(
                    f"axe {v['impact']} {v['id']} on {where} ({v['count']} nodes): {v['help']}"
                )
                lines += [f"    {n}" for n in v["nodes"]]
        lines += [f"skip link: {s}" for s in self.skip_missing]
        lines += [f"header: {s}" for s in self.header_wrong]
        return "\n".join(lines)


async def rated_no(dialog: Dialog, http: httpx.AsyncClient, appeal: Appeal) -> None:
    keys = {"registration_number": appeal.registration_number, "access_code": appeal.access_code}

    async def rated() -> bool:
        found = await http.post(
            f"{dialog.url}/api/v1/answers/rating",
            json={**keys, "helped": False, "reason": "not_answered", "comment": "Про свет?"},
        )
        return found.status_code == 200  # 409 until the answer has reached the gateway

    await until_true(rated)

    async def listed() -> bool:
        case = await http.get(f"{dialog.url}/api/v1/cases/{appeal.appeal_id}", headers=internal())
        return (case.json().get("dispute") or {}).get("state") == "open"

    await until_true(listed)


async def dead_letter(dialog: Dialog) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(dialog.mongo_url, tz_aware=True)
    try:
        await StoredDeadLetters(client["dialog_bus"]).record(
            routed(), "a11y-consumer", "ValueError: no such appeal", 5
        )
    finally:
        await client.close()


async def test_every_dashboard_page_is_accessible_in_both_languages(
    dialog: Dialog, page: Any, http: httpx.AsyncClient, videos: dict[str, Path]
) -> None:
    official = dialog.user("a11y-housing", "official", "deputy-housing")
    control = dialog.user("a11y-control", "controller")
    admin = dialog.user("a11y-root", "admin")
    answered = await make_appeal(dialog, http, videos["appeal"], language="ru")
    await dashboard.answer(
        dialog.url,
        login=official,
        password=PASSWORD,
        appeal_id=answered.appeal_id,
        text="Уважаемая Айгуль! Ремонт запланирован на май.",
    )
    # The citizen says it did not help: the control office's list of disputed answers.
    await rated_no(dialog, http, answered)
    # Days later: an open case is due soon and past the days it could be sent elsewhere.
    waiting = await make_appeal(dialog, http, videos["appeal"], language="kk")
    dialog.runner.move_clock(timedelta(days=12))
    late = await make_appeal(dialog, http, videos["appeal"], official_id="deputy-economy")
    await dead_letter(dialog)
    audit = Audit(page, dialog)

    for lang in LANGS:
        await page.goto(f"{dialog.url}/dashboard/lang/{lang}?next=/dashboard/login")
        await audit.check(f"{lang}/login", lang)

    await log_in(page, dialog, official)
    await audit.visit("inbox", "/dashboard/inbox")
    assert await page.locator("td.days.soon").count() >= 1  # the colour axe has to read
    await audit.visit("case-open", f"/dashboard/cases/{waiting.appeal_id}")
    assert await page.locator("#redirect-warning").count() == 1
    await audit.visit("case-answered", f"/dashboard/cases/{answered.appeal_id}")
    # The answer is marked as Russian on a Kazakh or Russian page alike.
    assert await page.locator("article.answer .answer-text").get_attribute("lang") == "ru"
    await audit.visit("search", "/dashboard/search?q=Нурланова")
    await page.context.clear_cookies()

    await log_in(page, dialog, control)
    await audit.visit("control", "/dashboard/control")
    await audit.visit("control-overdue", "/dashboard/control?due=overdue")
    await audit.visit("control-soon", "/dashboard/control?due=soon")
    await audit.visit("stats", "/dashboard/control/stats")
    await audit.visit("disputed", "/dashboard/disputed")
    assert await page.locator(f'section.dispute[data-appeal="{answered.appeal_id}"]').count() == 1
    await audit.visit("control-case", f"/dashboard/cases/{late.appeal_id}")
    await audit.visit("control-search", "/dashboard/search?q=2")
    await audit.visit("reference", "/dashboard/reference")
    await audit.visit("reference-new", "/dashboard/reference/new")
    await audit.visit("reference-entry", "/dashboard/reference/housing-queue-documents")
    await page.context.clear_cookies()

    await log_in(page, dialog, admin)
    for name, path in [
        ("admin-accounts", "/dashboard/admin/accounts"),
        ("admin-officials", "/dashboard/admin/officials"),
        ("admin-official", "/dashboard/admin/officials/deputy-housing"),
        ("admin-official-new", "/dashboard/admin/officials/new"),
        ("admin-topics", "/dashboard/admin/topics"),
        ("admin-kiosks", "/dashboard/admin/kiosks"),
        ("admin-audit", "/dashboard/admin/audit"),
        ("admin-dead-letters", "/dashboard/admin/dead-letters"),
        ("admin-templates", "/dashboard/templates"),
        ("admin-booths", "/dashboard/booths"),
        ("admin-dead-letter-queue", f"/dashboard/admin/dead-letters/{DLQ}"),
    ]:
        await audit.visit(name, path)
    assert await page.locator("tr[data-id]").count() == 1  # the queue's page, with its letter

    print(audit.report())
    assert not audit.violations and not audit.skip_missing and not audit.header_wrong, (
        audit.report()
    )


async def test_the_inbox_says_what_came_and_keeps_the_keyboard_where_it_was(
    dialog: Dialog, page: Any, http: httpx.AsyncClient, videos: dict[str, Path]
) -> None:
    official = dialog.user("a11y-social", "official", "deputy-social")
    first = await make_appeal(dialog, http, videos["appeal"], official_id="deputy-social")
    await log_in(page, dialog, official)
    for lang in LANGS:
        await page.goto(f"{dialog.url}/dashboard/lang/{lang}?next=/dashboard/inbox")
        await page.wait_for_load_state("networkidle")
        live = page.locator("#live")
        assert await live.get_attribute("aria-live") == "polite"
        assert await live.inner_text() == ""
        # The official is on the first case's link, by keyboard, when a new one comes in.
        link = page.locator(f'tr[data-appeal="{first.appeal_id}"] a').first
        await link.focus()
        newer = await make_appeal(dialog, http, videos["appeal"], official_id="deputy-social")
        await page.locator(f'tr[data-appeal="{newer.appeal_id}"]').wait_for(timeout=15_000)
        await until(page, f"document.getElementById('live').textContent.trim() === '{NEW[lang]}'")
        focused = await page.evaluate(
            "(() => { const r = document.activeElement.closest('tr');"
            " return r && r.dataset.appeal; })()"
        )
        assert focused == first.appeal_id
        await page.screenshot(path=SHOTS / f"access-{lang}-inbox-announced.png", full_page=True)
        # The skip link takes the keyboard past the header to the page's content.
        await page.goto(f"{dialog.url}/dashboard/inbox")
        await page.keyboard.press("Tab")
        await page.keyboard.press("Enter")
        assert await page.evaluate("document.activeElement.id") == "content"
