"""SMSC.kz HTTP API client (same protocol as SMSC.ru), async, over httpx.

Credentials travel in the POST body only, never in a URL or a log line. Documented error codes
are sorted into transient (retry later) and permanent (do not retry) failures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

# send.php error codes (SMSC docs): transient ones may succeed on a later attempt.
TRANSIENT_CODES = {4: "IP temporarily blocked", 9: "too many requests"}
PERMANENT_CODES = {
    1: "bad parameters",
    2: "bad login or password",
    3: "no funds",
    5: "bad date format",
    6: "message forbidden (text or sender name)",
    7: "bad phone number format",
    8: "cannot be delivered to this number",
}
# status.php: -3 means SMSC has no such message; the rest mean it has it.
STATUS_NOT_FOUND = -3
DELIVERED = {1, 2, 4}


class SmsError(Exception):
    def __init__(self, reason: str, *, code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class TransientSmsError(SmsError):
    """Network trouble, a 5xx, or SMSC asking to slow down: try again later."""


class PermanentSmsError(SmsError):
    """SMSC refused the message for good (bad number, banned text, no funds)."""


@dataclass(frozen=True)
class SendResult:
    smsc_id: str
    parts: int


@dataclass
class SmscClient:
    http: httpx.AsyncClient
    base_url: str
    login: str
    password: str
    apikey: str
    sender: str

    def _auth(self) -> dict[str, str]:
        if self.apikey:
            return {"apikey": self.apikey}
        return {"login": self.login, "psw": self.password}

    async def _post(self, path: str, form: dict[str, str]) -> dict[str, Any]:
        try:
            response = await self.http.post(
                f"{self.base_url.rstrip('/')}/sys/{path}",
                data={**self._auth(), "fmt": "3", "charset": "utf-8", **form},
                timeout=httpx.Timeout(20.0, connect=5.0),
            )
        except httpx.HTTPError as exc:
            raise TransientSmsError(f"SMSC unreachable: {type(exc).__name__}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientSmsError(f"SMSC answered HTTP {response.status_code}")
        if response.status_code != 200:
            raise PermanentSmsError(f"SMSC answered HTTP {response.status_code}")
        try:
            body: dict[str, Any] = response.json()
        except ValueError as exc:
            raise TransientSmsError("SMSC answered something that is not JSON") from exc
        return body

    async def send(self, phone: str, text: str, *, message_id: str) -> SendResult:
        """Send one SMS with our own id, so its status can be asked for after a crash."""
        form = {"phones": phone, "mes": text, "id": message_id}
        if self.sender:
            form["sender"] = self.sender
        body = await self._post("send.php", form)
        if "error_code" in body or "error" in body:
            code = int(body.get("error_code") or 0)
            if code in TRANSIENT_CODES:
                raise TransientSmsError(TRANSIENT_CODES[code], code=code)
            raise PermanentSmsError(PERMANENT_CODES.get(code, str(body.get("error"))), code=code)
        return SendResult(smsc_id=str(body.get("id", message_id)), parts=int(body.get("cnt", 1)))

    async def status(self, phone: str, *, message_id: str) -> int:
        """SMSC's status code of our message; -3 when SMSC never got it."""
        body = await self._post("status.php", {"phone": phone, "id": message_id})
        if "error_code" in body:
            code = int(body["error_code"])
            raise TransientSmsError(f"status look-up failed ({code})", code=code)
        return int(body.get("status", STATUS_NOT_FOUND))

    async def ping(self) -> bool:
        body = await self._post("balance.php", {})
        return "balance" in body
