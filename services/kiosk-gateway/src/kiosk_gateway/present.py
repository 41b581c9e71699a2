"""How the gateway's documents look to its API's callers (the admin's kiosk list)."""

from __future__ import annotations

from typing import Any


def kiosk_summary(kiosk: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": kiosk["_id"],
        "location": kiosk["location"],
        "center": kiosk.get("center") or kiosk["location"],
        "revoked": kiosk.get("revoked_at") is not None,
        "created_at": kiosk["created_at"],
        "last_seen_at": kiosk.get("last_seen_at"),
    }
