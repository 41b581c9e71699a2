"""With routing, the notifier and the dashboard stopped the booth works from the gateway's own
directory; nothing is lost.
The open figures (/open) are served from the gateway's copy meanwhile.

The picker (names, photos), creating, uploading and submitting an appeal need nothing from
routing. routing catches up on AppealRecorded when it is back, and the official's SMS goes out
once, from the notifier's own copy of the directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from dialog_platform.testing.booth_api import file_appeal
from dialog_platform.testing.launch import Distributed
from dialog_platform.testing.waiting import eventually

from .conftest import System
from .test_core_path import appeal_body

OFFICIAL_PHONE = "+77010000004"  # deputy-housing


@pytest.mark.parametrize("system", ["distributed"], indirect=True)
async def test_the_booth_takes_an_appeal_while_routing_notifier_and_dashboard_are_stopped(
    system: System, printer_for: Any, videos: dict[str, Path], http: httpx.AsyncClient
) -> None:
    assert isinstance(system.runner, Distributed)
    kiosk_id, token = system.kiosk_add()
    printer_for(kiosk_id)
    auth = {"Authorization": f"Bearer {token}"}
    gw = system.gateway_url

    # The read model is filled from routing's events (or its snapshot) shortly after start.
    async def picker() -> list[dict[str, Any]]:
        r = await http.get(f"{gw}/api/v1/officials", headers=auth)
        return list(r.json()["officials"]) if r.status_code == 200 else []

    await eventually(picker)

    async def open_figures() -> httpx.Response | None:
        r = await http.get(f"{gw}/open/data.json")
        return r if r.status_code == 200 else None

    published = await eventually(open_figures)
    # Intake needs none of the services behind it (issue 10): routing, the notifier and the
    # dashboard are all down while the booth takes the appeal.
    stopped = ("routing", "notifier", "dashboard")
    for name in stopped:
        system.runner.processes[name].stop(kill=True)
    before = len(system.smsc.state.sent_to(OFFICIAL_PHONE))
    try:
        # The public page and its downloads are served from the gateway's own copy.
        page = await http.get(f"{gw}/open", params={"lang": "ru"})
        assert page.status_code == 200 and "Открытые показатели" in page.text
        again = await http.get(f"{gw}/open/data.json")
        assert again.status_code == 200 and again.headers["etag"] == published.headers["etag"]
        officials = await picker()
        addressee = next(o for o in officials if o["id"] == "deputy-housing")
        photo = await http.get(f"{gw}{addressee['photo_url']}")
        assert photo.status_code == 200 and photo.headers["content-type"] == "image/png"

        video = videos["short"].read_bytes()
        receipt = await file_appeal(http, gw, token, appeal_body(), video)
        number = receipt["registration_number"]

        async def receipt_printed() -> bool:
            return (system.receipts_dir / f"{number}-1.png").exists()

        await eventually(receipt_printed)
    finally:
        for name in stopped:
            system.runner.start_one(name)

    async def official_told() -> bool:
        texts = [m.text for m in system.smsc.state.sent_to(OFFICIAL_PHONE)]
        return any(number in t for t in texts)

    await eventually(official_told, timeout=60)
    texts = [m.text for m in system.smsc.state.sent_to(OFFICIAL_PHONE)[before:]]
    assert len([t for t in texts if number in t]) == 1
