"""The directory managed through the API: create, edit, deactivate, deputies, photos, and what
the booth's picker (the public list) shows right after each change."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from .conftest import Rig, png

NEW_OFFICIAL: dict[str, Any] = {
    "id": "deputy-ecology",
    "full_name": {"kk": "Айдос Серікұлы Нұрланов", "ru": "Айдос Серикович Нурланов"},
    "position": {"kk": "Облыс әкімінің орынбасары", "ru": "Заместитель акима области"},
    "competence": {"kk": "Экология, су ресурстары", "ru": "Экология, водные ресурсы"},
    "department": {"kk": "Экология басқармасы", "ru": "Управление экологии"},
    "supervisor_id": "akim",
    "phone": "+77010000009",
    "language": "kk",
    "by": "admin",
}


async def picker(rig: Rig) -> dict[str, dict[str, Any]]:
    r = await rig.http.get("/api/v1/directory/officials")
    assert r.status_code == 200
    return {o["id"]: o for o in r.json()["officials"]}


async def test_created_official_appears_in_the_picker_without_the_phone(rig: Rig) -> None:
    r = await rig.post("/api/v1/directory/officials", NEW_OFFICIAL)
    assert r.status_code == 201, r.text
    assert r.json()["phone"] == "+77010000009"  # the admin's (internal) view has it
    shown = (await picker(rig))["deputy-ecology"]
    assert shown["competence"]["kk"] == "Экология, су ресурстары"
    assert shown["acting"] is None and "phone" not in shown
    again = await rig.post("/api/v1/directory/officials", NEW_OFFICIAL)
    assert again.status_code == 409 and again.json()["error"]["field"] == "id"


async def test_bad_official_bodies_name_the_field_and_change_nothing(rig: Rig) -> None:
    cases = [
        ({**NEW_OFFICIAL, "id": "Bad Id!"}, "id"),
        ({**NEW_OFFICIAL, "phone": "8 701 000 00 09"}, "phone"),
        ({**NEW_OFFICIAL, "language": "en"}, "language"),
        ({**NEW_OFFICIAL, "full_name": {"kk": " ", "ru": "Имя"}}, "full_name.kk"),
        ({**NEW_OFFICIAL, "supervisor_id": "nobody"}, "supervisor_id"),
        ({**NEW_OFFICIAL, "colour": "red"}, "colour"),
    ]
    for body, field in cases:
        r = await rig.post("/api/v1/directory/officials", body)
        assert r.status_code == 422, (field, r.text)
        error = r.json()["error"]
        assert error["field"] == field and error["message"]["kk"] and error["message"]["ru"]
    assert "deputy-ecology" not in await picker(rig)


async def test_edit_and_deactivate_reach_the_picker_at_once(rig: Rig) -> None:
    r = await rig.patch(
        "/api/v1/directory/officials/deputy-social",
        {"position": {"kk": "Бірінші орынбасар", "ru": "Первый заместитель"}, "by": "admin"},
    )
    assert r.status_code == 200, r.text
    assert (await picker(rig))["deputy-social"]["position"]["ru"] == "Первый заместитель"
    r = await rig.patch("/api/v1/directory/officials/deputy-social", {"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    assert "deputy-social" not in await picker(rig)
    everyone = await rig.http.get("/api/v1/directory/officials?active=false")
    assert "deputy-social" in {o["id"] for o in everyone.json()["officials"]}
    # Unknown official, and a required field set to null, are refused.
    missing = await rig.patch("/api/v1/directory/officials/nobody", {"active": False})
    assert missing.status_code == 404
    null = await rig.patch("/api/v1/directory/officials/akim", {"full_name": None})
    assert null.status_code == 422 and null.json()["error"]["field"] == "full_name"


async def test_acting_deputy_shown_only_during_the_range(rig: Rig) -> None:
    today = rig.clock.now.date()
    deputy = {"deputy_id": "deputy-economy", "from": str(today), "to": str(today + timedelta(5))}
    r = await rig.patch("/api/v1/directory/officials/deputy-housing", {"deputy": deputy})
    assert r.status_code == 200, r.text
    acting = (await picker(rig))["deputy-housing"]["acting"]
    assert acting["deputy_id"] == "deputy-economy"
    assert acting["until"] == str(today + timedelta(5))
    assert acting["full_name"]["ru"] and acting["position"]["kk"]
    rig.clock.move(timedelta(days=6))
    assert (await picker(rig))["deputy-housing"]["acting"] is None
    # The range is kept (the admin sees it) until cleared.
    one = (await rig.http.get("/api/v1/directory/officials/deputy-housing")).json()
    assert one["deputy"]["deputy_id"] == "deputy-economy"
    cleared = await rig.patch("/api/v1/directory/officials/deputy-housing", {"deputy": None})
    assert cleared.json()["deputy"] is None


async def test_bad_deputies_are_refused(rig: Rig) -> None:
    path = "/api/v1/directory/officials/deputy-housing"
    d = str(date(2026, 11, 2))
    for deputy, field in [
        ({"deputy_id": "deputy-housing", "from": d, "to": d}, "deputy.deputy_id"),
        ({"deputy_id": "nobody", "from": d, "to": d}, "deputy.deputy_id"),
        ({"deputy_id": "akim", "from": d, "to": "2026-11-01"}, "deputy.to"),
        ({"deputy_id": "akim", "from": "2026-13-01", "to": d}, "deputy.from"),
    ]:
        r = await rig.patch(path, {"deputy": deputy})
        assert r.status_code == 422 and r.json()["error"]["field"] == field, (deputy, r.text)
    assert (await rig.http.get(path)).json()["deputy"] is None


async def test_photo_upload_replaces_the_picture_and_bad_images_are_refused(rig: Rig) -> None:
    path = "/api/v1/directory/officials/akim/photo"
    before = (await picker(rig))["akim"]["photo_url"]
    jpeg = png((80, 100), fmt="JPEG")
    r = await rig.http.put(
        path, content=jpeg, headers={**rig.headers, "Content-Type": "image/jpeg"}
    )
    assert r.status_code == 200, r.text
    after = (await picker(rig))["akim"]["photo_url"]
    assert after != before  # a new version in the URL: caches fetch the new photo
    served = await rig.http.get(after)
    assert served.content == jpeg and served.headers["content-type"] == "image/jpeg"

    def put(body: bytes, content_type: str) -> Any:
        return rig.http.put(
            path, content=body, headers={**rig.headers, "Content-Type": content_type}
        )

    truncated = png((200, 200))[:200]
    for body, content_type, status in [
        (b"GIF89a not really", "image/png", 422),
        (truncated, "image/png", 422),
        (jpeg, "image/png", 422),  # a JPEG declared as PNG
        (png(), "image/gif", 415),
        (b"\0" * (2 * 1024 * 1024 + 1), "image/png", 413),
    ]:
        r = await put(body, content_type)
        assert r.status_code == status, (content_type, r.text)
        assert r.json()["error"]["message"]["kk"]
    assert (await rig.http.get(after)).content == jpeg  # unchanged by the refused uploads
