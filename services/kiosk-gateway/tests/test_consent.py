"""The consent text carries a version, and each appeal records the one the citizen agreed to."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from kiosk_gateway import consent
from kiosk_gateway.pages import catalogs

from .conftest import Booth
from .test_booth_api import APPEAL


def test_the_text_on_screen_is_the_newest_recorded_version() -> None:
    consent.check(catalogs())
    assert consent.current() == consent.versions()[-1]["version"]
    assert len({v["version"] for v in consent.versions()}) == len(consent.versions())


def test_a_changed_text_without_a_new_version_is_refused() -> None:
    changed = catalogs()
    changed["ru"] = {**changed["ru"], "consent_keep": "Хранится вечно."}
    with pytest.raises(RuntimeError, match="new version"):
        consent.check(changed)


async def test_the_appeal_records_the_version_the_booth_showed(
    booth: Booth, http: httpx.AsyncClient
) -> None:
    page = (await http.get(f"{booth.url}/kiosk")).text
    found = re.search(r'<script type="application/json" id="config">(.*?)</script>', page, re.S)
    assert found is not None
    config = json.loads(found[1])
    assert config["consent_version"] == consent.current()

    kiosk_id, token = booth.kiosk_add()
    auth = {"Authorization": f"Bearer {token}"}
    unknown = await http.post(
        f"{booth.url}/api/v1/appeals", json={**APPEAL, "consent_version": "1999-9"}, headers=auth
    )
    assert unknown.status_code == 422, unknown.text
    error = unknown.json()["error"]
    assert error["field"] == "consent_version"
    assert error["message"]["kk"] and error["message"]["ru"]
    assert await booth.appeals(kiosk_id) == []

    for sent in (consent.current(), None):
        body = {**APPEAL, "consent_version": sent} if sent else APPEAL
        created = await http.post(f"{booth.url}/api/v1/appeals", json=body, headers=auth)
        assert created.status_code == 201, created.text
    stored = [a["consent_version"] for a in await booth.appeals(kiosk_id)]
    assert stored == [consent.current(), consent.current()]
