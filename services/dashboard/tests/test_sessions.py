"""Logging in and out, the session cookie, CSRF, the login rate limit, the language switch."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .conftest import PASSWORD, Browser, Dialog, logged_in


async def test_login_sets_a_protected_session_cookie_and_logout_ends_it(
    dialog: Dialog, browser: Callable[[], Browser]
) -> None:
    login = dialog.user("housing", "official", "deputy-housing")
    b = browser()
    page = await b.get("/dashboard/inbox")
    assert page.status_code == 303 and page.headers["location"].startswith("/dashboard/login")

    response = await b.login(login)
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard/inbox"
    cookie = next(
        v for k, v in response.headers.multi_items() if k == "set-cookie" and "dialog_session" in v
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/dashboard" in cookie
    # Development serves plain http on loopback; outside development the cookie is Secure.
    assert "Secure" not in cookie

    inbox = await b.get("/dashboard/inbox")
    assert inbox.status_code == 200
    assert "housing" in inbox.text

    bye = await b.post("/dashboard/logout")
    assert bye.status_code == 303
    again = await b.get("/dashboard/inbox")
    assert again.status_code == 303 and "/dashboard/login" in again.headers["location"]
    [entry] = await dialog.audit(action="logout", login=login)
    assert entry["ip"] == "127.0.0.1"


async def test_a_session_id_from_before_login_is_not_the_one_after(
    dialog: Dialog, browser: Callable[[], Browser]
) -> None:
    login = dialog.user("housing", "official", "deputy-housing")
    b = browser()
    await b.get("/dashboard/login")
    before = b.client.cookies.get("dialog_session")
    await b.post("/dashboard/login", {"login": login, "password": PASSWORD})
    after = b.client.cookies.get("dialog_session")
    assert before and after and before != after
    # The planted id is worth nothing now.
    stale = browser()
    stale.client.cookies.set("dialog_session", before, path="/dashboard")
    assert (await stale.get("/dashboard/inbox")).status_code == 303


async def test_post_without_csrf_token_is_refused_and_changes_nothing(
    dialog: Dialog, browser: Callable[[], Browser]
) -> None:
    login = dialog.user("housing", "official", "deputy-housing")
    b = await logged_in(browser, login)
    await b.get("/dashboard/inbox")

    refused = await b.post("/dashboard/logout", csrf=False)
    assert refused.status_code == 403
    assert "Форма устарела" in refused.text or "Форманың мерзімі" in refused.text
    wrong = await b.post("/dashboard/logout", {"csrf": "forged"}, csrf=False)
    assert wrong.status_code == 403
    # Still logged in: the refused POSTs did nothing.
    assert (await b.get("/dashboard/inbox")).status_code == 200

    # The login form needs the token too.
    fresh = browser()
    await fresh.get("/dashboard/login")
    no_token = await fresh.post(
        "/dashboard/login", {"login": login, "password": PASSWORD}, csrf=False
    )
    assert no_token.status_code == 403
    assert "dialog_session" not in no_token.headers.get("set-cookie", "")


async def test_wrong_password_five_times_is_rate_limited(
    dialog: Dialog, browser: Callable[[], Browser]
) -> None:
    login = dialog.user("social", "official", "deputy-social")
    b = browser()
    for _ in range(5):
        wrong = await b.login(login, "not-the-password")
        assert wrong.status_code == 401
        assert "Логин немесе құпиясөз қате" in wrong.text
    locked = await b.login(login, "not-the-password")
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert "Тым көп сәтсіз әрекет" in locked.text
    # Even the right password waits until the lock passes.
    still = await b.login(login, PASSWORD)
    assert still.status_code == 429
    failed = await dialog.audit(action="login_failed", login=login)
    assert len(failed) == 7
    # Another account is not locked by it.
    other = dialog.user("economy", "official", "deputy-economy")
    assert (await browser().login(other)).status_code == 303


async def test_pages_speak_kazakh_and_russian(
    dialog: Dialog, browser: Callable[[], Browser]
) -> None:
    b = browser()
    kk = await b.get("/dashboard/login")
    assert 'lang="kk"' in kk.text and "Кабинетке кіру" in kk.text
    switched = await b.get("/dashboard/lang/ru", params={"next": "/dashboard/login"})
    assert switched.status_code == 303 and switched.headers["location"] == "/dashboard/login"
    ru = await b.get("/dashboard/login")
    assert 'lang="ru"' in ru.text and "Вход в кабинет" in ru.text
    # Never a redirect off the site.
    away = await b.get("/dashboard/lang/kk", params={"next": "https://evil.example/"})
    assert away.headers["location"] == "/dashboard/"


@pytest.mark.parametrize("role", ["official", "controller", "admin"])
async def test_each_role_lands_on_its_own_start_page(
    dialog: Dialog, browser: Callable[[], Browser], role: str
) -> None:
    login = dialog.user(f"start-{role}", role, "akim" if role == "official" else None)
    response = await browser().login(login)
    assert (
        response.headers["location"]
        == {
            "official": "/dashboard/inbox",
            "controller": "/dashboard/control",
            "admin": "/dashboard/admin/officials",
        }[role]
    )


async def test_cli_generates_a_password_when_none_is_given(
    dialog: Dialog, browser: Callable[[], Browser]
) -> None:
    done = dialog.cli(["user", "add", "generated", "--role", "controller"])
    assert done.returncode == 0, done.stderr
    password = done.stdout.strip().splitlines()[-1]
    assert len(password) >= 10
    assert (await browser().login("generated", password)).status_code == 303
    twice = dialog.cli(["user", "add", "generated", "--role", "controller"])
    assert twice.returncode != 0 and "login" in twice.stderr
    bad = dialog.cli(["user", "add", "lonely", "--role", "official"])
    assert bad.returncode != 0 and "official" in bad.stderr
