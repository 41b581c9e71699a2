"""Killed mid-send: the notifier process dies after SMSC accepted an SMS but before it recorded
that; after a restart the redelivered event is looked up at SMSC and nothing is sent twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from pathlib import Path

import httpx

from dialog_contracts import AppealRecorded, Envelope, VideoRef
from dialog_platform.bus import AmqpBus
from dialog_platform.internal import internal_headers
from dialog_platform.net import free_port
from dialog_platform.settings import CommonSettings
from dialog_platform.testing.launch import TEST_SECRET, start_process, wait_ready
from dialog_platform.testing.smsc import LOGIN, PASSWORD, FakeSmscServer

PHONE = "+77012345678"


async def test_killed_after_smsc_accepted_sends_nothing_twice(
    rabbitmq_url: str, bus_namespace: str, mongo_url: str, db_prefix: str, tmp_path: Path
) -> None:
    with FakeSmscServer() as smsc:
        smsc.state.stall_after_accept = True
        publisher = AmqpBus(rabbitmq_url, namespace=bus_namespace)
        await publisher.start()
        event = AppealRecorded(
            appeal_id="crash-1",
            registration_number="2026-000123-8",
            kiosk_id="booth-1",
            official_id="akim",
            category="question",
            language="ru",
            phone=PHONE,
            recorded_at=datetime(2026, 11, 23, 5, 0, tzinfo=UTC),
            control_date=date(2026, 12, 7),
            legal_deadline=date(2026, 12, 14),
            video=VideoRef(key="v.webm", duration_s=60, size=1000, sha256="0" * 64),
        )
        await publisher.publish(Envelope.wrap(event, source="/test"), event.routing_key())
        await publisher.close()

        port = free_port()
        env = {
            "DIALOG_BUS_URL": rabbitmq_url,
            "DIALOG_BUS_NAMESPACE": bus_namespace,
            "DIALOG_MONGO_URL": mongo_url,
            "DIALOG_DB_PREFIX": db_prefix,
            "DIALOG_SECRET_KEY": TEST_SECRET,
            "DIALOG_DATA_DIR": str(tmp_path),
            "DIALOG_ROUTING_URL": "http://127.0.0.1:9",  # not needed for a citizen's SMS
            "DIALOG_NOTIFIER_SMSC_URL": smsc.url,
            "DIALOG_NOTIFIER_SMSC_LOGIN": LOGIN,
            "DIALOG_NOTIFIER_SMSC_PASSWORD": PASSWORD,
            "DIALOG_BUS_RETRY_FIRST_DELAY_S": "0.2",
        }
        first = start_process("notifier", ["--target", "notifier"], env, tmp_path / "logs", port)
        try:
            # SMSC has the message and is holding its answer: kill the notifier right now.
            assert await asyncio.to_thread(smsc.state.accepted.wait, 60)
            first.stop(kill=True)
        finally:
            first.stop(kill=True)
        smsc.state.stall_after_accept = False
        smsc.state.release.set()

        second = start_process("notifier", ["--target", "notifier"], env, tmp_path / "logs", port)
        try:
            await asyncio.to_thread(wait_ready, second)
            url = f"http://127.0.0.1:{port}/api/v1/notifications?appeal_id=crash-1"
            headers = internal_headers(CommonSettings(secret_key=TEST_SECRET))
            state = None
            async with httpx.AsyncClient() as http:
                # The dead process's lease on the send runs out first (notifier.service.LEASE_S).
                for _ in range(300):
                    found = (await http.get(url, headers=headers)).json()["notifications"]
                    state = found[0]["state"] if found else None
                    if state == "sent":
                        break
                    await asyncio.sleep(0.2)
            assert state == "sent"
        finally:
            second.stop()
        assert len(smsc.state.sent_to(PHONE)) == 1
        assert any(r["path"].endswith("status.php") for r in smsc.state.requests)


def test_fault_runs_wait_as_long_as_a_killed_notifiers_sms_can_be_held_back() -> None:
    # A fault run counts an SMS missing once its horizon has passed, so the horizon has to cover
    # the lease a killed notifier leaves on an SMS plus the longest retry's backoff after it;
    # raising either here without the horizon would turn a late SMS into a reported loss.
    from dialog_platform.testing.faults.audit import SMS_HORIZON_S
    from notifier.service import LEASE_S, MAX_BACKOFF_S

    assert LEASE_S + MAX_BACKOFF_S < SMS_HORIZON_S
