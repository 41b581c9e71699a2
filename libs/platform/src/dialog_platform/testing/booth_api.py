"""An appeal filed through the booth API the way the booth page files it, for tests."""

from __future__ import annotations

from typing import Any

import httpx


async def file_appeal(
    http: httpx.AsyncClient, gateway: str, token: str, body: dict[str, Any], video: bytes
) -> dict[str, Any]:
    """Create the appeal, upload its WebM and submit it, each step answered 201.

    Returns the create's answer updated with the submit's (the receipt: number, access code,
    control date), so a test has the upload and submit URLs and the receipt in one place.
    """
    auth = {"Authorization": f"Bearer {token}"}
    created = await http.post(f"{gateway}/api/v1/appeals", json=body, headers=auth)
    assert created.status_code == 201, created.text
    appeal: dict[str, Any] = created.json()
    uploaded = await http.put(
        f"{gateway}{appeal['upload_url']}",
        content=video,
        headers={**auth, "Content-Type": "video/webm"},
    )
    assert uploaded.status_code == 201, uploaded.text
    submitted = await http.post(f"{gateway}{appeal['submit_url']}", headers=auth)
    assert submitted.status_code == 201, submitted.text
    appeal.update(submitted.json())
    return appeal
