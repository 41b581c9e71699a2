"""The admin: the officials directory through routing, kiosks, accounts and the audit log."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date, timedelta

import httpx
from PIL import Image

from .conftest import PASSWORD, Browser, Dialog, logged_in

OFFICIAL = {
    "full_name_kk": "Асқар Бекұлы Тестов",
    "full_name_ru": "Аскар Бекович Тестов",
    "position_kk": "Бөлім басшысы",
    "position_ru": "Руководитель отдела",
    "competence_kk": "Жолдар мен көлік",
    "competence_ru": "Дороги и транспорт",
    "department_kk": "Көлік басқармасы",
    "department_ru": "Управление транспорта",
    "supervisor_id": "deputy-economy",
    "phone": "+7 705 111 22 33",
    "language": "kk",
}


def png(color: str = "#884422") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 80), color).save(out, "PNG")
    return out.getvalue()


async def booth_officials(dialog: Dialog, http: httpx.AsyncClient) -> dict[str, dict[str, object]]:
    found = (await http.get(f"{dialog.url}/api/v1/directory/officials")).json()["officials"]
    return {o["id"]: o for o in found}


async def test_admin_creates_edits_and_deactivates_an_official(
    dialog: Dialog, browser: Callable[[], Browser], http: httpx.AsyncClient
) -> None:
    admin = dialog.user("root", "admin")
    b = await logged_in(browser, admin)
    listing = await b.get("/dashboard/admin/officials")
    assert listing.status_code == 200 and "deputy-housing" in listing.text

    await b.get("/dashboard/admin/officials/new")
    bad_id = await b.post("/dashboard/admin/officials/new", {**OFFICIAL, "id": "Bad Id"})
    assert bad_id.status_code == 422
    missing = await b.post(
        "/dashboard/admin/officials/new", {**OFFICIAL, "id": "transport", "position_ru": ""}
    )
    assert missing.status_code == 422 and "position" in missing.text
    assert "transport" not in await booth_officials(dialog, http)

    created = await b.post("/dashboard/admin/officials/new", {**OFFICIAL, "id": "transport"})
    assert created.status_code == 303, created.text
    assert created.headers["location"] == "/dashboard/admin/officials/transport"
    # The booth's picker sees the new official at once.
    entry = (await booth_officials(dialog, http))["transport"]
    assert entry["full_name"] == {"kk": "Асқар Бекұлы Тестов", "ru": "Аскар Бекович Тестов"}

    edit = await b.get("/dashboard/admin/officials/transport")
    assert edit.status_code == 200 and "+77051112233" in edit.text
    changed = await b.post(
        "/dashboard/admin/officials/transport",
        {**OFFICIAL, "position_ru": "Начальник управления", "position_kk": "Басқарма басшысы"},
    )
    assert changed.status_code == 303, changed.text
    entry = (await booth_officials(dialog, http))["transport"]
    assert entry["position"] == {"kk": "Басқарма басшысы", "ru": "Начальник управления"}

    # A photo: checked here for type and size, by routing with Pillow for content.
    await b.get("/dashboard/admin/officials/transport")
    not_image = await b.client.post(
        "/dashboard/admin/officials/transport/photo",
        data={"csrf": b.csrf()},
        files={"photo": ("x.png", b"not an image at all", "image/png")},
    )
    assert not_image.status_code == 422
    gif = await b.client.post(
        "/dashboard/admin/officials/transport/photo",
        data={"csrf": b.csrf()},
        files={"photo": ("x.gif", b"GIF89a", "image/gif")},
    )
    assert gif.status_code == 415
    photo = png()
    uploaded = await b.client.post(
        "/dashboard/admin/officials/transport/photo",
        data={"csrf": b.csrf()},
        files={"photo": ("face.png", photo, "image/png")},
    )
    assert uploaded.status_code == 303, uploaded.text
    entry = (await booth_officials(dialog, http))["transport"]
    served = await http.get(f"{dialog.url}{entry['photo_url']}")
    assert served.status_code == 200
    with Image.open(io.BytesIO(served.content)) as image:
        assert image.size == (60, 80)

    # A deputy while the official is away: the booth shows who is acting.
    today = date.today()
    await b.get("/dashboard/admin/officials/transport")
    backwards = await b.post(
        "/dashboard/admin/officials/transport/deputy",
        {
            "deputy_id": "deputy-economy",
            "from": today.isoformat(),
            "to": (today - timedelta(days=1)).isoformat(),
        },
    )
    assert backwards.status_code == 422
    deputy = await b.post(
        "/dashboard/admin/officials/transport/deputy",
        {
            "deputy_id": "deputy-economy",
            "from": (today - timedelta(days=1)).isoformat(),
            "to": (today + timedelta(days=7)).isoformat(),
        },
    )
    assert deputy.status_code == 303, deputy.text
    acting = (await booth_officials(dialog, http))["transport"]["acting"]
    assert isinstance(acting, dict) and acting["deputy_id"] == "deputy-economy"
    cleared = await b.post("/dashboard/admin/officials/transport/deputy", {"clear": "1"})
    assert cleared.status_code == 303
    assert (await booth_officials(dialog, http))["transport"]["acting"] is None

    await b.get("/dashboard/admin/officials")
    off = await b.post("/dashboard/admin/officials/transport/active", {"active": "0"})
    assert off.status_code == 303
    assert "transport" not in await booth_officials(dialog, http)
    edits = await dialog.audit(action="directory_edit", login=admin)
    assert len(edits) >= 4
    assert len(await dialog.audit(action="directory_photo", login=admin)) == 1


async def test_admin_manages_kiosks_and_accounts_and_reads_the_audit_log(
    dialog: Dialog, browser: Callable[[], Browser], http: httpx.AsyncClient
) -> None:
    admin = dialog.user("root", "admin")
    b = await logged_in(browser, admin)
    await b.get("/dashboard/admin/kiosks")
    added = await b.post(
        "/dashboard/admin/kiosks", {"id": "booth-admin-1", "location": "Өскемен / Усть-Каменогорск"}
    )
    assert added.status_code == 201, added.text
    token = re.search(r'<pre id="kiosk-token">([^<]+)</pre>', added.text)
    assert token, "the token is shown once"
    auth = {"Authorization": f"Bearer {token.group(1)}"}
    assert (await http.get(f"{dialog.url}/api/v1/officials", headers=auth)).status_code == 200
    listing = await b.get("/dashboard/admin/kiosks")
    assert "booth-admin-1" in listing.text and token.group(1) not in listing.text
    revoked = await b.post("/dashboard/admin/kiosks/booth-admin-1/revoke")
    assert revoked.status_code == 303
    assert (await http.get(f"{dialog.url}/api/v1/officials", headers=auth)).status_code == 401

    await b.get("/dashboard/admin/accounts")
    weak = await b.post(
        "/dashboard/admin/accounts",
        {"login": "clerk", "role": "official", "official_id": "akim", "password": "short"},
    )
    assert weak.status_code == 422 and "password" in weak.text
    unknown = await b.post(
        "/dashboard/admin/accounts", {"login": "clerk", "role": "official", "official_id": "nobody"}
    )
    assert unknown.status_code == 422
    made = await b.post(
        "/dashboard/admin/accounts", {"login": "clerk", "role": "official", "official_id": "akim"}
    )
    assert made.status_code == 201
    password = re.search(r'<pre id="generated-password">([^<]+)</pre>', made.text)
    assert password
    clerk = browser()
    assert (await clerk.login("clerk", password.group(1))).status_code == 303
    assert (await clerk.get("/dashboard/inbox")).status_code == 200

    await b.get("/dashboard/admin/accounts")
    gone = await b.post("/dashboard/admin/accounts/clerk/deactivate")
    assert gone.status_code == 303
    # Deactivation ends the clerk's open session and refuses new logins.
    assert (await clerk.get("/dashboard/inbox")).status_code == 303
    assert (await browser().login("clerk", password.group(1))).status_code == 401

    log = await b.get("/dashboard/admin/audit")
    assert log.status_code == 200
    for action in ("kiosk_add", "kiosk_revoke", "account_add", "account_deactivate", "login"):
        assert f'data-action="{action}"' in log.text, action
    only = await b.get("/dashboard/admin/audit", params={"action": "login_failed"})
    assert 'data-action="login"' not in only.text
    assert (await b.get("/dashboard/admin/audit", params={"action": "nope"})).status_code == 422

    # Nobody but the admin gets these pages.
    official = dialog.user("housing", "official", "deputy-housing")
    o = await logged_in(browser, official)
    for path in ("/dashboard/admin/officials", "/dashboard/admin/audit", "/dashboard/control"):
        assert (await o.get(path)).status_code == 404, path
    assert PASSWORD


async def test_admin_makes_a_center_operator_who_sees_only_the_booths_page(
    dialog: Dialog, browser: Callable[[], Browser]
) -> None:
    admin = dialog.user("root-ops", "admin")
    b = await logged_in(browser, admin)
    await b.get("/dashboard/admin/accounts")
    centerless = await b.post("/dashboard/admin/accounts", {"login": "ops-1", "role": "operator"})
    assert centerless.status_code == 422 and "Оператордың орталығын көрсетіңіз" in centerless.text
    made = await b.post(
        "/dashboard/admin/accounts",
        {"login": "ops-1", "role": "operator", "center": "Өскемен, №1 ХҚКО"},
    )
    assert made.status_code == 201, made.text
    password = re.search(r'<pre id="generated-password">([^<]+)</pre>', made.text)
    assert password
    operator = browser()
    landed = await operator.login("ops-1", password.group(1))
    assert landed.status_code == 303 and landed.headers["location"] == "/dashboard/booths"
    page = await operator.get("/dashboard/booths")
    assert page.status_code == 200 and "Өскемен, №1 ХҚКО" in page.text
    # Cases, the control office and the admin's pages are not an operator's.
    for path in ("/dashboard/inbox", "/dashboard/control", "/dashboard/admin/kiosks"):
        assert (await operator.get(path)).status_code in (303, 404), path
    # The admin sees every center's booths; an official sees none.
    assert (await b.get("/dashboard/booths")).status_code == 200
    official = await logged_in(browser, dialog.user("housing-ops", "official", "deputy-housing"))
    assert (await official.get("/dashboard/booths")).status_code == 404
