"""dashboard's logic: who may see which case, answers, and the actions routing carries out."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from pymongo.errors import DuplicateKeyError

from dialog_contracts import AnswerPosted
from dialog_contracts.routing_api import Extend, Forward, Opened
from dialog_platform.component import Clock
from dialog_platform.outbox import Outbox, Pending

from . import audit
from . import repository as repo
from .clients import MediaClient, NotifierClient, RoutingClient
from .models import MAX_ANSWER_CHARS, Account

log = logging.getLogger(__name__)
Json = dict[str, Any]


class AnswerRejected(Exception):
    """An answer that cannot be saved: `field` and `code` name what is wrong."""

    def __init__(self, status: int, code: str, field: str | None = None) -> None:
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code
        self.field = field


def public_answer(doc: Json) -> Json:
    return {
        "id": doc["_id"],
        "text": doc["text"],
        "language": doc["language"],
        "video_key": doc.get("video_key"),
        "answered_at": doc["answered_at"],
        "official_id": doc["official_id"],
        "corrects": doc.get("corrects"),
        "by": doc.get("login"),
        "round": doc.get("round", 1),
    }


def awaits_new_answer(case: Json, answers: list[Json]) -> bool:
    """A follow-up asked for a new answer that has not come yet (not a correction)."""
    return bool(answers) and int(case.get("round") or 1) > int(answers[-1].get("round") or 1)


@dataclass
class Dashboard:
    db: repo.Db
    outbox: Outbox
    routing: RoutingClient
    media: MediaClient
    notifier: NotifierClient
    clock: Clock
    # media-store's base URL as a browser reaches it: "" when it is this same origin.
    media_origin: str = ""

    def may_see(self, account: Account, case: Json) -> bool:
        return account.may_act_on(case)

    async def case_for(self, account: Account, appeal_id: str) -> Json | None:
        """The case when this account may see it; None for a missing case and for another's."""
        if not account.handles_cases or len(appeal_id) > 100:
            return None
        case = await self.routing.case(appeal_id)
        if case is None or not self.may_see(account, case):
            return None
        return case

    def may_answer(self, account: Account, case: Json) -> bool:
        return account.owns(case)

    async def answers(self, appeal_id: str) -> list[Json]:
        return [public_answer(a) for a in await repo.answers_of(self.db, appeal_id=appeal_id)]

    async def playback_url(
        self, account: Account, case: Json, key: str, *, what: str, ip: str
    ) -> str | None:
        """A short-lived playback URL; issuing it is what the audit log records as a view."""
        url = await self.media.playback_url(key)
        if url is None:
            return None
        await audit.record(
            self.db,
            at=self.clock(),
            action="video_view",
            login=account.login,
            account=account,
            appeal_id=case["appeal_id"],
            detail={"video": what, "key": key},
            ip=ip,
        )
        if url.startswith("/") and self.media_origin:
            return f"{self.media_origin}{url}"
        return url

    async def reveal_phone(self, account: Account, case: Json, *, ip: str) -> str:
        await audit.record(
            self.db,
            at=self.clock(),
            action="phone_reveal",
            login=account.login,
            account=account,
            appeal_id=case["appeal_id"],
            ip=ip,
        )
        return str(case.get("phone") or "")

    async def mark_opened(self, account: Account, case: Json) -> Json:
        """The handling official opened a new case: routing moves it to in progress."""
        if case.get("status") != "new" or not self.may_answer(account, case):
            return case
        return await self.routing.act(case["appeal_id"], Opened(by=account.login))

    async def store_answer_video(
        self, account: Account, case: Json, chunks: AsyncIterator[bytes]
    ) -> Json:
        key = f"answers/{case['appeal_id']}/{uuid.uuid4().hex}.webm"
        stored = await self.media.put_video(key, chunks)
        await repo.insert_answer_video(
            self.db,
            video={
                "_id": key,
                "appeal_id": case["appeal_id"],
                "login": account.login,
                "size": stored.get("size"),
                "duration_s": stored.get("duration_s"),
                "sha256": stored.get("sha256"),
                "uploaded_at": self.clock(),
                "used": False,
            },
        )
        return {"key": key, "size": stored.get("size"), "duration_s": stored.get("duration_s")}

    async def post_answer(
        self,
        account: Account,
        case: Json,
        *,
        text: str,
        video_key: str | None,
        corrects: str | None,
        ip: str,
    ) -> Json:
        """Save an answer (or a correction of the current one) and AnswerPosted together."""
        text = text.strip()
        if not text:
            raise AnswerRejected(422, "answer_text_required", "text")
        if len(text) > MAX_ANSWER_CHARS:
            raise AnswerRejected(422, "answer_text_too_long", "text")
        appeal_id = case["appeal_id"]

        async def save(tx: Pending) -> Json:
            existing = await repo.answers_of(self.db, appeal_id=appeal_id, session=tx.session)
            current = existing[-1]["_id"] if existing else None
            round_ = int(case.get("round") or 1)
            if awaits_new_answer(case, existing) and corrects is None:
                current = None  # the follow-up's new answer replaces nothing
            if current is not None and corrects is None:
                raise AnswerRejected(409, "already_answered")
            if corrects is not None and corrects != current:
                raise AnswerRejected(409, "answer_outdated", "corrects")
            if video_key:
                video = await repo.get_answer_video(self.db, key=video_key, session=tx.session)
                if (
                    video is None
                    or video["appeal_id"] != appeal_id
                    or video["login"] != account.login
                    or video.get("used")
                ):
                    raise AnswerRejected(422, "answer_video_unknown", "video_key")
                await repo.mark_answer_video_used(self.db, key=video_key, session=tx.session)
            now = self.clock()
            doc: Json = {
                # The sequence in the id makes two concurrent first answers collide.
                "_id": f"{appeal_id}-{len(existing) + 1}",
                "seq": len(existing) + 1,
                "appeal_id": appeal_id,
                "registration_number": case["registration_number"],
                "official_id": case["official_id"],
                "login": account.login,
                "language": case.get("language", "ru"),
                "text": text,
                "video_key": video_key or None,
                "corrects": corrects,
                "answered_at": now,
                "round": round_,
            }
            await repo.insert_answer(self.db, answer=doc, session=tx.session)
            # The draft was for this answer; a correction starts from the answer itself.
            await repo.delete_draft(self.db, appeal_id=appeal_id, session=tx.session)
            await audit.record(
                self.db,
                at=now,
                action="answer_correction" if corrects else "answer",
                login=account.login,
                account=account,
                appeal_id=appeal_id,
                detail={"answer_id": doc["_id"], "video": bool(video_key)},
                ip=ip,
                session=tx.session,
            )
            tx.add(
                AnswerPosted(
                    appeal_id=appeal_id,
                    registration_number=case["registration_number"],
                    official_id=case["official_id"],
                    answered_at=now,
                    has_video=bool(video_key),
                    round=round_,
                )
            )
            return doc

        try:
            saved = await self.outbox.run(save)
        except DuplicateKeyError as exc:
            raise AnswerRejected(409, "answer_outdated", "corrects") from exc
        return public_answer(saved)

    async def forward(
        self, account: Account, case: Json, *, to_official_id: str, reason: str, ip: str
    ) -> Json:
        body = Forward(to_official_id=to_official_id, reason=reason, by=account.login)
        updated = await self.routing.act(case["appeal_id"], body)
        await audit.record(
            self.db,
            at=self.clock(),
            action="forward",
            login=account.login,
            account=account,
            appeal_id=case["appeal_id"],
            detail={"from": case.get("official_id"), "to": to_official_id, "reason": reason},
            ip=ip,
        )
        return updated

    async def extend(self, account: Account, case: Json, *, body: Json, ip: str) -> Json:
        asked = Extend.model_validate({**body, "by": account.login})
        updated = await self.routing.act(case["appeal_id"], asked)
        await audit.record(
            self.db,
            at=self.clock(),
            action="extend",
            login=account.login,
            account=account,
            appeal_id=case["appeal_id"],
            detail={k: v for k, v in body.items() if k != "by"},
            ip=ip,
        )
        return updated

    async def timeline(self, case: Json, answers: list[Json]) -> tuple[list[Json], bool]:
        """The case's history, its answers and its notifications, oldest first.

        The second value is False when the notifier could not be asked (the rest still shows).
        """
        from .present import parse_dt

        items: list[Json] = []
        for h in case.get("history") or []:
            items.append({**h, "source": "routing"})
        for a in answers:
            items.append(
                {
                    "at": a["answered_at"],
                    "what": "answer_correction" if a["corrects"] else "answer_posted",
                    "by": a["by"],
                    "video": bool(a["video_key"]),
                    "source": "dashboard",
                }
            )
        for n in await repo.notes_of(self.db, appeal_id=case["appeal_id"]):
            # Internal: seen by the officials and the control office, never by the citizen.
            items.append(
                {
                    "at": n["at"],
                    "what": "note",
                    "by": n["login"],
                    "role": n.get("role"),
                    "text": n["text"],
                    "source": "dashboard",
                }
            )
        notifications = await self.notifier.notifications(case["appeal_id"])
        for n in notifications or []:
            items.append(
                {
                    "at": n.get("sent_at") or n.get("created_at"),
                    "what": "notification",
                    "purpose": n.get("purpose"),
                    "state": n.get("state"),
                    "phone": n.get("phone"),
                    "source": "notifier",
                }
            )

        def order(item: Json) -> float:
            found = parse_dt(item.get("at"))
            return found.timestamp() if found else 0.0

        items.sort(key=order)
        return items, notifications is not None
