"""The control office's records duties: legal holds, and the citizen's copy of their file.

A hold lives in routing, which decides the storage periods; the dashboard asks for it like a
forward or an extension and keeps the audit entry. The citizen's copy is one ZIP streamed as it
is built (the videos pass through in chunks, never whole in memory), with a summary in the
appeal's language.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from dialog_contracts.routing_api import Hold, Release

from . import audit
from .i18n import Translator, pick
from .models import Account
from .present import parse_dt
from .service import Dashboard

Json = dict[str, Any]


async def hold(
    dash: Dashboard, account: Account, case: Json, *, reason: str, ip: str, lift: bool = False
) -> Json:
    """Put the case on legal hold (or lift it, `lift`); routing keeps it, the audit log says who."""
    body_type = Release if lift else Hold
    updated = await dash.routing.act(case["appeal_id"], body_type(reason=reason, by=account.login))
    await audit.record(
        dash.db,
        at=dash.clock(),
        action="legal_hold_lift" if lift else "legal_hold",
        login=account.login,
        account=account,
        appeal_id=case["appeal_id"],
        detail={"reason": reason},
        ip=ip,
    )
    return updated


class _Sink(io.RawIOBase):
    """What zipfile writes to: collected, then handed out by `take()` (never seekable, so
    zipfile writes each entry's sizes after its data)."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        data = bytes(b)
        self._chunks.append(data)
        return len(data)

    def take(self) -> bytes:
        out = b"".join(self._chunks)
        self._chunks.clear()
        return out


def _when(value: object) -> str:
    at = parse_dt(value)
    return at.strftime("%d.%m.%Y %H:%M UTC") if at else ""


def summary(
    t: Translator,
    case: Json,
    citizen: Json,
    answers: list[Json],
    timeline: list[Json],
    sms: list[Json],
    officials: dict[str, Any],
) -> str:
    official = officials.get(str(case.get("official_id")), {})
    lines = [
        t("copy.title", number=case["registration_number"]),
        "",
        f"{t('copy.citizen')}: {citizen.get('full_name') or '—'}",
        f"{t('copy.phone')}: {citizen.get('phone') or case.get('phone') or '—'}",
        f"{t('copy.recorded')}: {_when(case.get('recorded_at'))}",
        f"{t('copy.official')}: {t.pick(official.get('full_name')) or case.get('official_id')}",
        f"{t('copy.control_date')}: {case.get('control_date')}",
        f"{t('copy.legal_deadline')}: {case.get('legal_deadline')}",
        f"{t('copy.status')}: {t('status.' + str(case.get('status')))}",
        "",
        t("copy.answers"),
    ]
    for n, a in enumerate(answers, 1):
        lines += [
            f"  {n}. {_when(a['answered_at'])}",
            *(f"     {x}" for x in a["text"].splitlines()),
        ]
    if not answers:
        lines.append("  —")
    lines += ["", t("copy.timeline")]
    for h in timeline:
        lines.append(f"  {_when(h.get('at'))}  {t('history.' + str(h.get('what')))}")
    lines += ["", t("copy.sms")]
    for s in sms:
        state = t("state." + str(s.get("state")))
        lines.append(
            f"  {_when(s.get('sent_at') or s.get('created_at'))}  {state}  {s.get('text') or ''}"
        )
    if not sms:
        lines.append("  —")
    lines += ["", t("copy.files")]
    return "\n".join(lines) + "\n"


async def export(
    dash: Dashboard, account: Account, case: Json, *, ip: str
) -> tuple[str, AsyncIterator[bytes]]:
    """The ZIP's file name and its bytes; gathered before the first byte, so a neighbour that is
    down is a clear error page rather than a broken download. Audited before it is sent."""
    appeal_id = case["appeal_id"]
    t = Translator(pick(case.get("language")))
    answers = await dash.answers(appeal_id)
    timeline, _ = await dash.timeline(case, answers)
    # Internal notes are the officials' own, never the citizen's.
    timeline = [h for h in timeline if h.get("what") != "note"]
    sms = await dash.notifier.notifications(appeal_id) or []
    citizen = await dash.db.case_index.find_one({"_id": appeal_id}) or {}
    try:
        officials = {o["id"]: o for o in await dash.routing.officials()}
    except Exception:
        officials = {}
    videos: list[tuple[str, str]] = []
    if (case.get("video") or {}).get("key"):
        videos.append(("appeal.webm", case["video"]["key"]))
    for n, a in enumerate(answers, 1):
        if a.get("video_key"):
            videos.append((f"answer-{n}.webm", a["video_key"]))
    text = summary(t, case, citizen, answers, timeline, sms, officials)
    text += "".join(f"  {name}\n" for name, _ in videos)
    await audit.record(
        dash.db,
        at=dash.clock(),
        action="export",
        login=account.login,
        account=account,
        appeal_id=appeal_id,
        detail={"files": 3 + len(answers) + len(videos)},
        ip=ip,
    )

    async def body() -> AsyncIterator[bytes]:
        sink = _Sink()
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as z:
            z.writestr("summary.txt", text)
            for n, a in enumerate(answers, 1):
                z.writestr(f"answer-{n}.txt", a["text"])
            z.writestr(
                "timeline.json", json.dumps(timeline, ensure_ascii=False, indent=1, default=str)
            )
            z.writestr("sms.json", json.dumps(sms, ensure_ascii=False, indent=1, default=str))
            yield sink.take()
            for name, key in videos:
                info = zipfile.ZipInfo(name, date_time=datetime.now().timetuple()[:6])
                info.compress_type = zipfile.ZIP_STORED  # WebM is compressed already
                with z.open(info, "w", force_zip64=True) as out:
                    async for chunk in dash.media.chunks(key):
                        out.write(chunk)
                        yield sink.take()
        yield sink.take()

    return f"{case['registration_number']}.zip", body()
