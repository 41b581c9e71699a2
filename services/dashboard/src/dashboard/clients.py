"""Calls to other services' HTTP APIs: routing (cases, directory), media-store, notifier, kiosks.

On the platform's one client base (`dialog_platform.clients`): the internal token on every
call, a refusal as `Refused` with that service's kk/ru message, an outage as `Unavailable`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from dialog_contracts.routing_api import CASES_PATH, CaseAction, CaseQuery, case_path
from dialog_platform.clients import Json, MediaClient, Refused, Unavailable
from dialog_platform.clients import ServiceApi as Api

__all__ = [
    "Api",
    "Json",
    "KioskClient",
    "MediaClient",
    "NotifierClient",
    "Refused",
    "RoutingClient",
    "Unavailable",
]


def _seg(value: str) -> str:
    return quote(value, safe="")


class RoutingClient(Api):
    """routing's cases and directory, in the terms of `dialog_contracts.routing_api`."""

    async def cases(self, query: CaseQuery) -> Json:
        return await self.json("GET", CASES_PATH, params=query.params())

    async def case(self, appeal_id: str) -> Json | None:
        try:
            return await self.json("GET", case_path(appeal_id))
        except Refused as exc:
            if exc.status in (404, 422):
                return None
            raise

    async def act(self, appeal_id: str, body: CaseAction) -> Json:
        """Forward, extend, hold, confirm…: the case as it is after the change."""
        path = case_path(appeal_id, body.action)
        return await self.json("POST", path, json=body.model_dump(mode="json"))

    async def disputed(self, *, supervisor_id: str | None) -> list[Json]:
        found = await self.json(
            "GET", f"{CASES_PATH}/disputed", params={"supervisor_id": supervisor_id}
        )
        cases: list[Json] = found["cases"]
        return cases

    async def stats(self, **query: Any) -> Json:
        return await self.json("GET", f"{CASES_PATH}/stats", params=query)

    async def officials(self, *, active_only: bool = False) -> list[Json]:
        params = {} if active_only else {"active": "false"}
        found = await self.json("GET", "/api/v1/directory/officials", params=params)
        officials: list[Json] = found["officials"]
        return officials

    async def official(self, official_id: str) -> Json | None:
        try:
            return await self.json("GET", f"/api/v1/directory/officials/{_seg(official_id)}")
        except Refused as exc:
            if exc.status == 404:
                return None
            raise

    async def contact(self, official_id: str) -> Json | None:
        try:
            path = f"/api/v1/directory/officials/{_seg(official_id)}/contact"
            return await self.json("GET", path)
        except Refused as exc:
            if exc.status == 404:
                return None
            raise

    async def create_official(self, body: Json) -> Json:
        return await self.json("POST", "/api/v1/directory/officials", json=body)

    async def update_official(self, official_id: str, body: Json) -> Json:
        path = f"/api/v1/directory/officials/{_seg(official_id)}"
        return await self.json("PATCH", path, json=body)

    async def put_photo(self, official_id: str, data: bytes, content_type: str) -> Json:
        path = f"/api/v1/directory/officials/{_seg(official_id)}/photo"
        return await self.json("PUT", path, content=data, headers={"Content-Type": content_type})


class NotifierClient(Api):
    async def notifications(self, appeal_id: str) -> list[Json] | None:
        """The appeal's notifications, or None when the notifier cannot tell now."""
        try:
            found = await self.json(
                "GET", "/api/v1/notifications", params={"appeal_id": appeal_id}, timeout_s=5.0
            )
        except (Unavailable, Refused):
            return None
        notifications: list[Json] = found.get("notifications", [])
        return notifications


class KioskClient(Api):
    async def kiosks(self) -> list[Json]:
        found = await self.json("GET", "/api/v1/kiosks")
        kiosks: list[Json] = found["kiosks"]
        return kiosks

    async def add(self, kiosk_id: str, location: str) -> Json:
        return await self.json(
            "POST", "/api/v1/kiosks", json={"id": kiosk_id, "location": location}
        )

    async def revoke(self, kiosk_id: str) -> Json:
        return await self.json("POST", f"/api/v1/kiosks/{_seg(kiosk_id)}/revoke")

    async def reference_stats(self) -> Json:
        """The reference desk's views, empty searches and appeals recorded after a view."""
        return await self.json("GET", "/api/v1/reference-stats")
