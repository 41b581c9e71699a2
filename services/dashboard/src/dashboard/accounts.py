"""Accounts, passwords, server-side sessions, CSRF tokens and the login rate limits.

Wrong passwords are counted per login and client (`dialog_platform.ratelimit.Lockout`): the
client that fails is locked out of the login, and an attacked login is slowed for everybody, so
nobody can lock an official out of a predictable login (`akim`) from another address.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
import string
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from dialog_platform.component import Clock
from dialog_platform.ratelimit import Locked, Lockout, SlidingWindow

from . import metrics
from . import repository as repo
from .models import CENTER_MAX, LOGIN, OFFICIAL_ID, ROLES, Account, Role, Session, account_from
from .settings import DashboardSettings

Db = repo.Db
log = logging.getLogger(__name__)
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the login does not exist, so a wrong login costs the same
    time as a wrong password and does not reveal which logins exist. Made on the first such
    login, not at import: it is a tenth of a second of every start."""
    return _hasher.hash("not-a-real-password")


MIN_PASSWORD = 10


class AccountInvalid(ValueError):
    def __init__(self, field: str, code: str) -> None:
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code


class LoginLocked(Exception):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"locked for {retry_after_s}s")
        self.retry_after_s = retry_after_s


def generate_password() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(14))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def check_new_account(
    login: str, role: str, official_id: str | None, password: str, center: str | None = None
) -> Role:
    if not LOGIN.fullmatch(login):
        raise AccountInvalid("login", "login_invalid")
    if role not in ROLES:
        raise AccountInvalid("role", "role_invalid")
    if role == "operator" and not center:
        raise AccountInvalid("center", "center_required")
    if center and len(center) > CENTER_MAX:
        raise AccountInvalid("center", "center_required")
    if role == "official" and not official_id:
        raise AccountInvalid("official_id", "official_required")
    if official_id and not OFFICIAL_ID.fullmatch(official_id):
        raise AccountInvalid("official_id", "official_invalid")
    if len(password) < MIN_PASSWORD:
        raise AccountInvalid("password", "password_short")
    return role  # type: ignore[return-value]


@dataclass
class Accounts:
    db: Db
    settings: DashboardSettings
    clock: Clock
    ip_limiter: SlidingWindow
    lockout: Lockout = field(init=False)

    def __post_init__(self) -> None:
        self.lockout = Lockout(
            failures=self.db.password_failures,
            clock=self.clock,
            per_client=self.settings.login_failures,
            lock_s=self.settings.login_lock_s,
            daily_cap=self.settings.login_failures_per_day,
            max_delay_s=self.settings.login_max_delay_s,
        )

    async def add(
        self,
        *,
        login: str,
        role: str,
        official_id: str | None,
        password: str,
        center: str | None = None,
    ) -> Account:
        center = (center or "").strip() or None
        checked = check_new_account(login, role, official_id or None, password, center)
        doc: dict[str, Any] = {
            "_id": login,
            "role": checked,
            "official_id": official_id or None,
            "center": center if checked == "operator" else None,
            "password_hash": await asyncio.to_thread(hash_password, password),
            "active": True,
            "created_at": self.clock(),
        }
        if not await repo.insert_account(self.db, account=doc):
            raise AccountInvalid("login", "login_taken")
        return account_from(doc)

    async def deactivate(self, login: str) -> bool:
        if not await repo.set_account(self.db, login=login, fields={"active": False}):
            return False
        await repo.delete_sessions_of(self.db, login=login)
        return True

    async def set_password(self, login: str, password: str) -> bool:
        if len(password) < MIN_PASSWORD:
            raise AccountInvalid("password", "password_short")
        fields = {"password_hash": await asyncio.to_thread(hash_password, password)}
        return await repo.set_account(self.db, login=login, fields=fields)

    async def list(self) -> list[dict[str, Any]]:
        return await repo.list_accounts(self.db)

    # Sessions

    def _expiry(self) -> datetime:
        return self.clock() + timedelta(seconds=self.settings.session_ttl_s)

    async def new_session(self, account: Account | None, *, ip: str) -> Session:
        session = Session(
            id=secrets.token_urlsafe(32),
            csrf=secrets.token_urlsafe(32),
            account=account,
            expires_at=self._expiry(),
        )
        await repo.insert_session(
            self.db,
            session={
                "_id": session.id,
                "csrf": session.csrf,
                "login": account.login if account else None,
                "created_at": self.clock(),
                "expires_at": session.expires_at,
                "ip": ip,
            },
        )
        return session

    async def session(self, session_id: str | None) -> Session | None:
        """The live session behind a cookie, its expiry pushed forward; None when gone."""
        if not session_id or len(session_id) > 100:
            return None
        now = self.clock()
        doc = await repo.get_session(self.db, session_id=session_id, now=now)
        if doc is None:
            return None
        account: Account | None = None
        if doc.get("login"):
            found = await repo.get_account(self.db, login=doc["login"])
            if found is None or not found.get("active", True):
                await repo.delete_session(self.db, session_id=session_id)
                return None
            account = account_from(found)
        expires = self._expiry()
        # Written at most once a minute per session, not on every request.
        if expires - doc["expires_at"] > timedelta(seconds=60):
            await repo.touch_session(self.db, session_id=session_id, expires_at=expires)
        return Session(id=session_id, csrf=doc["csrf"], account=account, expires_at=expires)

    async def end_session(self, session_id: str) -> None:
        await repo.delete_session(self.db, session_id=session_id)

    # Logging in

    async def authenticate(self, login: str, password: str, *, ip: str) -> Account | None:
        """The account when the password is right; None when not; LoginLocked past the limits."""
        if not self.ip_limiter.allow(ip):
            raise LoginLocked(60)
        login = login.strip().lower()[:40]
        try:
            attempt = await self.lockout.admit(login, ip)
        except Locked as exc:
            raise LoginLocked(exc.retry_after_s) from exc
        doc = await repo.get_account(self.db, login=login) if LOGIN.fullmatch(login) else None
        stored = doc["password_hash"] if doc else None
        ok = await asyncio.to_thread(lambda: _verify(stored or _dummy_hash(), password))
        if not ok or doc is None or not doc.get("active", True):
            await self.lockout.failed(attempt)
            if attempt.total + 1 == self.settings.login_failures:
                metrics.login_attacked()
                log.warning("login_under_attack", extra={"login": login, "client": ip})
            return None
        await self.lockout.succeeded(attempt)
        if stored is not None and _hasher.check_needs_rehash(stored):
            rehashed = await asyncio.to_thread(hash_password, password)
            await repo.set_account(self.db, login=login, fields={"password_hash": rehashed})
        return account_from(doc)
