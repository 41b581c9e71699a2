"""The gateway's copy of the reference desk (the dashboard's published entries), its word
search, and what citizens did with it: views, searches that found nothing, and appeals
recorded after an entry was opened.

Filled from ReferenceEntryChanged and, on first start or after a gap, from the dashboard's
snapshot, so the booth and /help answer with the dashboard stopped. The counts stay here and
the dashboard pulls them for its statistics: the booth never waits on the dashboard, and no
queue is spent on a counter.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING

from dialog_contracts import ReferenceContent, ReferenceEntryChanged, richtext
from dialog_platform.replica import Replica, Row, Snapshot
from dialog_platform.textfold import WORD, fold, words

Doc = dict[str, Any]
COLLECTION = "reference_entries"
MAX_QUERY_CHARS = 100
MAX_MISSES = 50
MIN_PREFIX = 3


def _words(entry: ReferenceContent) -> list[str]:
    texts = [entry.question.kk, entry.question.ru, entry.answer.kk, entry.answer.ru]
    if entry.documents:
        texts += [entry.documents.kk, entry.documents.ru]
    if entry.topic_name:
        texts += [entry.topic_name.kk, entry.topic_name.ru]
    return sorted({w for t in texts for w in words(t)})


def _fields(event: ReferenceEntryChanged) -> Doc:
    if event.entry is None:
        # Withdrawn or never published: nothing of its text is kept.
        return {"published": False, "entry": None, "words": []}
    return {
        "published": True,
        "entry": event.entry.model_dump(mode="json"),
        "words": _words(event.entry),
    }


def query_words(text: str) -> list[str]:
    return words(text[:MAX_QUERY_CHARS])


def matches(doc_words: list[str], wanted: list[str]) -> bool:
    """Every typed word is a word of the entry, or (from 3 letters) the start of one: a
    citizen typing on a touch keyboard stops as soon as the word is clear."""
    return all(
        any(w == q or (len(q) >= MIN_PREFIX and w.startswith(q)) for w in doc_words) for q in wanted
    )


def summary(doc: Doc) -> Doc:
    entry = doc["entry"]
    return {
        "id": doc["_id"],
        "question": entry["question"],
        "topic": entry.get("topic"),
        "topic_name": entry.get("topic_name"),
    }


def full(doc: Doc) -> Doc:
    entry = doc["entry"]
    documents = entry.get("documents")
    return {
        **summary(doc),
        "answer_html": {lang: richtext.to_html(entry["answer"][lang]) for lang in ("kk", "ru")},
        "answer_lines": {lang: richtext.to_plain(entry["answer"][lang]) for lang in ("kk", "ru")},
        "documents_html": (
            {lang: richtext.to_html(documents[lang]) for lang in ("kk", "ru")}
            if documents
            else None
        ),
        "place": entry.get("place"),
        "service_url": entry.get("service_url"),
        "officials": entry.get("officials", []),
    }


class ReferenceDesk(Replica[ReferenceEntryChanged]):
    """Kept from the dashboard (`producer`, its internal API; None where the gateway runs
    without one, and the booth then shows no entries)."""

    collection_name = COLLECTION
    event = ReferenceEntryChanged
    source = Snapshot("/dashboard/internal/reference/snapshot", "entries", timeout_s=60.0)

    def row(self, event: ReferenceEntryChanged) -> Row:
        return event.entry_id, event.version, _fields(event)

    async def published(self) -> list[Doc]:
        cursor = self.collection.find({"published": True}, sort=[("_id", ASCENDING)])
        return [d async for d in cursor]

    async def entry(self, entry_id: str) -> Doc | None:
        if len(entry_id) > 80:
            return None
        return await self.collection.find_one({"_id": entry_id, "published": True})

    async def topics(self) -> list[Doc]:
        """The topics that have published entries, with how many, in the order first seen."""
        found: dict[str, Doc] = {}
        for doc in await self.published():
            entry = doc["entry"]
            topic = entry.get("topic")
            if topic and entry.get("topic_name"):
                found.setdefault(topic, {"id": topic, "name": entry["topic_name"], "count": 0})
                found[topic]["count"] += 1
        return sorted(found.values(), key=lambda t: (-t["count"], t["id"]))

    async def find(
        self,
        *,
        text: str = "",
        topic: str = "",
        official: str = "",
        departments: list[str] | None = None,
    ) -> list[Doc]:
        wanted = query_words(text)
        found = []
        for doc in await self.published():
            entry = doc["entry"]
            if topic and entry.get("topic") != topic:
                continue
            if (
                official
                and official not in entry.get("officials", [])
                and not (set(departments or []) & set(entry.get("departments", [])))
            ):
                continue
            if wanted and not matches(doc["words"], wanted):
                continue
            found.append(doc)
        return found

    # What citizens did with it

    async def count_view(self, entry_id: str, *, where: str) -> None:
        await self.db.reference_counts.update_one(
            {"_id": entry_id}, {"$inc": {"views": 1, f"views_{where}": 1}}, upsert=True
        )

    async def count_miss(self, text: str) -> None:
        # Words only: digits typed into the web's search box (a phone, an IIN) are not kept.
        typed = WORD.findall(text)
        folded = " ".join(fold(w) for w in typed)[:MAX_QUERY_CHARS]
        if not folded:
            return
        await self.db.reference_misses.update_one(
            {"_id": folded},
            {"$inc": {"count": 1}, "$set": {"text": " ".join(typed)[:MAX_QUERY_CHARS]}},
            upsert=True,
        )

    async def count_recorded(self, entry_ids: list[str]) -> None:
        for entry_id in sorted(set(entry_ids))[:20]:
            if await self.entry(entry_id) is not None:
                await self.db.reference_counts.update_one(
                    {"_id": entry_id}, {"$inc": {"recorded_after": 1}}, upsert=True
                )

    async def stats(self) -> Doc:
        counts = {c["_id"]: c async for c in self.db.reference_counts.find({})}
        rows = []
        for doc in await self.published():
            c = counts.get(doc["_id"], {})
            rows.append(
                {
                    "id": doc["_id"],
                    "question": doc["entry"]["question"],
                    "views": int(c.get("views", 0)),
                    "views_booth": int(c.get("views_booth", 0)),
                    "views_web": int(c.get("views_web", 0)),
                    "recorded_after": int(c.get("recorded_after", 0)),
                }
            )
        rows.sort(key=lambda r: (-r["views"], r["id"]))
        misses = self.db.reference_misses.find(
            {}, sort=[("count", DESCENDING), ("_id", ASCENDING)], limit=MAX_MISSES
        )
        return {
            "entries": rows,
            "misses": [{"text": m["text"], "count": m["count"]} async for m in misses],
        }
