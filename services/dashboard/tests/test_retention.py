"""Past the storage period the dashboard's read model forgets the citizen, once."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from dashboard import casefile, retention, search
from dialog_contracts import AppealExpired
from dialog_platform.bus import InProcessBus
from dialog_platform.documents import connect
from dialog_platform.outbox import Outbox

NOW = datetime(2031, 12, 1, 6, 0, tzinfo=UTC)
NAME, IIN, PHONE = "Айгүл Серікқызы Нұрланова", "900101400013", "+77012345678"


async def test_the_name_iin_and_phone_go_and_the_number_stays(
    mongo_url: str, db_prefix: str
) -> None:
    mongo = connect(mongo_url)
    db = mongo[f"{db_prefix}_dashboard"]
    try:
        fields = {"registration_number": "2026-000001-3", "phone": PHONE, "language": "ru"}
        await casefile.record(db, "a1", {**fields, "full_name": NAME, "iin": IIN})
        before = await db.case_index.find_one({"_id": "a1"})
        assert before is not None and before["k_iin"] and before["k_tel"]
        event = AppealExpired(
            appeal_id="a1",
            registration_number="2026-000001-3",
            closed_at=datetime(2026, 11, 20, tzinfo=UTC),
            expired_at=NOW,
            kinds=["video", "personal"],
        )
        outbox = Outbox(db, InProcessBus(), source="/dialog/dashboard")
        for _ in range(2):  # a redelivery changes nothing more
            await retention.expired(db, outbox, lambda: NOW, event)
        after = await db.case_index.find_one({"_id": "a1"})
        assert after is not None
        text = json.dumps(after, ensure_ascii=False, default=str)
        assert not [n for n in (NAME, "Нұрланова", IIN, "7012345678") if n in text], text
        assert after["k_num"] == before["k_num"]  # still found by its number
        assert not set(search.INDEXED_KEYS) - {"k_num"} & set(after)
        [entry] = [a async for a in db.audit.find({"action": "retention"})]
        assert entry["appeal_id"] == "a1" and entry["detail"] == {"kinds": ["personal", "video"]}
    finally:
        await mongo.drop_database(f"{db_prefix}_dashboard")
        await mongo.close()
