"""A case's subject (topic and one-line summary): set from the dashboard, filtered, counted."""

from __future__ import annotations

from .conftest import Rig

SUBJECT = "/api/v1/cases/{}/subject"


async def test_topic_and_summary_are_kept_listed_filtered_and_counted(rig: Rig) -> None:
    await rig.record("a1")
    await rig.record("a2")
    r = await rig.post(
        SUBJECT.format("a1"),
        {"topic": "roads", "summary": "  Яма на дороге\nу школы №5  ", "by": "housing"},
    )
    assert r.status_code == 200, r.text
    case = r.json()
    assert (case["topic"], case["summary"]) == ("roads", "Яма на дороге у школы №5")
    assert case["history"][-1]["what"] == "subject" and case["history"][-1]["topic"] == "roads"

    listed = (
        await rig.http.get("/api/v1/cases", params={"topic": "roads"}, headers=rig.headers)
    ).json()["cases"]
    assert [c["appeal_id"] for c in listed] == ["a1"]
    assert listed[0]["summary"] == "Яма на дороге у школы №5"
    every = (
        await rig.http.get("/api/v1/cases", params={"status": "open"}, headers=rig.headers)
    ).json()["cases"]
    assert {c["appeal_id"] for c in every} == {"a1", "a2"}

    stats = (await rig.http.get("/api/v1/cases/stats", headers=rig.headers)).json()
    counts = {t["topic"]: t["received"] for t in stats["topics"]}
    assert counts == {"roads": 1, None: 1}


async def test_a_bad_subject_is_refused_and_changes_nothing(rig: Rig) -> None:
    await rig.record("a1")
    for body, field in [
        ({"topic": "Дороги", "summary": "", "by": "c"}, "topic"),
        ({"topic": "roads", "summary": "x" * 201, "by": "c"}, "summary"),
        ({"topic": "roads", "summary": "x"}, "by"),
    ]:
        r = await rig.post(SUBJECT.format("a1"), body)
        assert r.status_code == 422 and r.json()["error"]["field"] == field, (body, r.text)
    assert (await rig.case("a1")).get("topic") is None
    missing = await rig.post(SUBJECT.format("nope"), {"topic": "roads", "by": "c"})
    assert missing.status_code == 404
