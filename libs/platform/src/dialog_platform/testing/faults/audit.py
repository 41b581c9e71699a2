"""After a fault run: what the system did for the booth's appeals, and the report of it."""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from dialog_contracts import ReceiptRequested, queue_name

from ...internal import HEADER, token_for
from ..launch import TEST_SECRET, Distributed
from ..smsc import FakeSmscServer
from .booth import BoothResult, ReceiptWatch, call
from .config import NUMBER, RECEIPT_POLL_S, FaultConfig
from .kills import Kill

# The notifier's lease and its longest backoff (30 + 60 s; the notifier's tests hold them under
# this), with a margin: an SMS due by then is on its way; one due later is a reminder.
SMS_HORIZON_S = 120.0


@dataclass
class Row:
    name: str
    expected: int
    got: int
    missing: int
    twice: int | None
    note: str = ""


@dataclass
class Report:
    config: FaultConfig
    booth: list[BoothResult]
    kills: list[Kill]
    registered: int
    rows: list[Row]
    dead_letters: dict[str, int]
    dead_letter_reasons: list[str]
    problems: list[str]
    notes: list[str]
    settled: bool
    settle_s: float
    runtime_s: float
    log_excerpts: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def table(self) -> str:
        outcomes = Counter(b.outcome for b in self.booth)
        tries = Counter[str]()
        for b in self.booth:
            tries.update(b.tries)
        per_target = Counter(k.target for k in self.kills)
        lines = [
            f"fault run: {self.config.appeals} appeals, seed {self.config.seed}, "
            f"kill every {self.config.kill_every[0]:g}-{self.config.kill_every[1]:g} s"
            f"{', broker too' if self.config.broker else ''}, an appeal every "
            f"{self.config.pace():.2f} s; runtime {self.runtime_s:.0f} s",
            f"kills: {len(self.kills)} ("
            + ", ".join(f"{t} {n}" for t, n in sorted(per_target.items()))
            + f"); restart took {_spread([k.down_s for k in self.kills])} s",
            "booth: "
            + ", ".join(f"{name} {outcomes[name]}" for name in sorted(outcomes))
            + f"; requests: create {tries['create']}, upload {tries['upload']}, "
            f"submit {tries['submit']}",
            f"settled: {'yes' if self.settled else 'NO'} after {self.settle_s:.0f} s",
            "",
            f"{'':24s}{'expected':>9s}{'got':>7s}{'missing':>9s}{'twice':>7s}",
            f"{'appeals registered':24s}{len(self.booth):>9d}{self.registered:>7d}{'':>9s}{'':>7s}",
        ]
        for row in self.rows:
            twice = "-" if row.twice is None else str(row.twice)
            lines.append(
                f"{row.name:24s}{row.expected:>9d}{row.got:>7d}{row.missing:>9d}{twice:>7s}"
                + (f"   {row.note}" if row.note else "")
            )
        total = sum(self.dead_letters.values())
        lines.append(f"{'dead letters':24s}{0:>9d}{total:>7d}")
        for name, count in sorted(self.dead_letters.items()):
            if count:
                lines.append(f"    {name}: {count}")
        lines.extend(f"      {reason}" for reason in self.dead_letter_reasons)
        if self.log_excerpts:
            lines += ["", "service logs (dead letters, gave up, tracebacks):"]
            lines.extend(f"  {line}" for line in self.log_excerpts)
        if self.notes:
            lines += ["", "notes:", *(f"  {n}" for n in self.notes)]
        lines += ["", "result: " + ("OK" if self.ok else f"FAILED ({len(self.problems)})")]
        lines.extend(f"  - {p}" for p in self.problems)
        return "\n".join(lines)


def _spread(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{min(values):.1f}-{max(values):.1f} (mean {sum(values) / len(values):.1f})"


class Audit:
    """What the system did for the booth's appeals, read from its own stores and the outside."""

    def __init__(
        self,
        cluster: Distributed,
        kiosk_id: str,
        smsc: FakeSmscServer,
        watch: ReceiptWatch,
        official_phones: dict[str, str],
        kills: list[Kill],
        config: FaultConfig,
    ) -> None:
        self.cluster = cluster
        self.kills = kills
        self.kiosk_id = kiosk_id
        self.smsc = smsc
        self.watch = watch
        self.official_phones = official_phones
        self.config = config
        self.internal = {HEADER: token_for(TEST_SECRET)}

    async def registered(self, mongo: Any) -> list[dict[str, Any]]:
        db = mongo[f"{self.cluster.db_prefix}_kiosk_gateway"]
        return [
            a async for a in db.appeals.find({"kiosk_id": self.kiosk_id, "status": "submitted"})
        ]

    async def outbox_pending(self, mongo: Any) -> int:
        pending = 0
        for name in await mongo.list_database_names():
            if name.startswith(f"{self.cluster.db_prefix}_"):
                pending += await mongo[name].outbox.count_documents({"state": "pending"})
        return int(pending)

    async def sms_on_their_way(self, mongo: Any) -> int:
        """SMS the notifier holds to send within a lease or a retry's backoff: a run is not
        settled while one waits out the lease a killed notifier left on it (reminders due days
        later are not counted)."""
        horizon = datetime.now(UTC) + timedelta(seconds=SMS_HORIZON_S)
        due = mongo[f"{self.cluster.db_prefix}_notifier"].due
        return int(await due.count_documents({"not_before": {"$lte": horizon}}))

    async def cases(self, http: httpx.AsyncClient) -> list[dict[str, Any]] | None:
        """routing's cases through its API; None while routing does not answer."""
        found: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            # By control date (a date string): nx-27017 compares datetimes to the second only,
            # so a recorded_at cursor can hand a row out on two pages (the case is still one).
            params: dict[str, Any] = {"limit": 200, "sort": "control_date"}
            if after:
                params["after"] = after
            status, body = await call(
                http,
                "GET",
                f"{self.cluster.url('routing')}/api/v1/cases",
                params=params,
                headers=self.internal,
            )
            if status != 200 or not isinstance(body, dict):
                return None
            found.extend(body["cases"])
            after = body.get("next")
            if not after:
                return found

    def tally(
        self, appeals: list[dict[str, Any]], cases: list[dict[str, Any]] | None
    ) -> tuple[list[Row], list[str], list[str], bool]:
        """(rows, problems, notes, complete) for the appeals registered so far."""
        problems: list[str] = []
        notes: list[str] = []
        by_number = {a["registration_number"]: a for a in appeals}
        numbers = Counter(a["registration_number"] for a in appeals)
        for number, n in numbers.items():
            if n > 1:
                problems.append(f"registration number {number} given to {n} appeals")
        expected = len(appeals)

        # Receipts.
        versions = self.watch.snapshot()
        journal = self._journal()
        printer_kills = [k.at for k in self.kills if k.target == "printer-agent"]
        printed = missing = 0
        in_window: list[str] = []
        outside: list[str] = []
        for number in by_number:
            seen = versions.get(f"{number}-1", [])
            if not seen:
                missing += 1
                continue
            printed += 1
            if len(seen) < 2:
                continue
            marked = journal.get(f"{number}-1")
            explained = all(
                any(
                    earlier.timestamp() - 2 * RECEIPT_POLL_S - 0.5 <= k.timestamp()
                    and k <= later
                    and marked is not None
                    and marked >= k
                    for k in printer_kills
                )
                for earlier, later in itertools.pairwise(seen)
            )
            (in_window if explained else outside).append(f"{number} ×{len(seen)}")
        stray = sorted(n for n in versions if n.removesuffix("-1") not in by_number)
        receipt_note = ""
        if in_window:
            receipt_note = f"{len(in_window)} of them in the print-then-crash window"
            notes.append(
                "reprinted after printer-agent was killed between printing and journalling "
                "(documented in printer_agent/service.py and journal.py): " + ", ".join(in_window)
            )
        if outside:
            problems.append(
                "receipts printed twice outside the crash window: " + ", ".join(outside)
            )
        if stray:
            problems.append(f"receipts of no registered appeal: {', '.join(stray)}")
        if missing:
            problems.append(f"{missing} receipts never printed")
        rows = [
            Row(
                "receipts printed",
                expected,
                printed,
                missing,
                len(in_window) + len(outside),
                receipt_note,
            ),
        ]

        # routing's cases.
        if cases is None:
            problems.append("routing's case list did not answer")
            rows.append(Row("routing cases", expected, 0, expected, None, "routing not answering"))
            case_missing = expected
        else:
            by_appeal = Counter(c["appeal_id"] for c in cases)
            registered_ids = {a["_id"] for a in appeals}
            case_missing = sum(1 for a in appeals if a["_id"] not in by_appeal)
            wrong = [
                c["registration_number"]
                for c in cases
                if c["appeal_id"] in registered_ids
                and (
                    by_number.get(c["registration_number"], {}).get("_id") != c["appeal_id"]
                    or c["official_id"] != by_number[c["registration_number"]]["official_id"]
                )
            ]
            extra = [c["appeal_id"] for c in cases if c["appeal_id"] not in registered_ids]
            twice = sum(1 for n in by_appeal.values() if n > 1)
            rows.append(
                Row("routing cases", expected, expected - case_missing, case_missing, twice)
            )
            if case_missing:
                problems.append(f"{case_missing} registered appeals without a case at routing")
            if wrong:
                problems.append(f"cases with the wrong number or official: {', '.join(wrong)}")
            if extra:
                problems.append(f"{len(extra)} cases of no registered appeal")
            if twice:
                problems.append(f"{twice} appeals with more than one case")

        # SMS, from what the SMSC stand-in received.
        with self.smsc.state.lock:
            messages = list(self.smsc.state.messages)
        official_numbers = set(self.official_phones.values())
        to_official: Counter[str] = Counter()
        to_citizen: Counter[str] = Counter()
        unmatched = 0
        for m in messages:
            found = NUMBER.search(m.text)
            appeal = by_number.get(found.group(0)) if found else None
            if appeal is None:
                unmatched += 1
            elif m.phone == self.official_phones.get(appeal["official_id"]):
                to_official[appeal["registration_number"]] += 1
            elif m.phone == appeal["phone"]:
                to_citizen[appeal["registration_number"]] += 1
            elif m.phone in official_numbers:
                problems.append(f"SMS for {appeal['registration_number']} to another official")
            else:
                unmatched += 1
        sms_missing = 0
        for name, counts, wanted in (
            ("officials' SMS", to_official, True),
            ("citizens' SMS", to_citizen, self.config.notify_citizen_on_record),
        ):
            if not wanted:
                rows.append(Row(name, 0, sum(counts.values()), 0, None, "not configured"))
                if counts:
                    problems.append(f"{name} sent although not configured")
                continue
            lost = sum(1 for n in by_number if counts[n] == 0)
            dup = sum(1 for n in by_number if counts[n] > 1)
            sms_missing += lost
            rows.append(Row(name, expected, sum(1 for n in by_number if counts[n]), lost, dup))
            if lost:
                problems.append(f"{lost} {name} missing")
            if dup:
                problems.append(f"{dup} {name} sent more than once")
        if unmatched:
            problems.append(f"{unmatched} SMS to nobody expected or naming no registered appeal")
        complete = missing == 0 and case_missing == 0 and sms_missing == 0
        return rows, problems, notes, complete

    def _journal(self) -> dict[str, datetime]:
        """printer-agent's journal: when each receipt was marked printed (its first mark)."""
        marks: dict[str, datetime] = {}
        for path in (self.cluster.data_dir / "printer-agent").rglob("journal.sqlite3"):
            with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
                rows = db.execute(
                    "SELECT registration_number, copy_number, printed_at FROM printed"
                ).fetchall()
            for number, copy, at in rows:
                marks[f"{number}-{copy}"] = datetime.fromisoformat(at)
        return marks

    async def dead_letters(self, url: str) -> tuple[dict[str, int], list[str]]:
        """Messages in each consumer's `<queue>.dlq`, and the last reason of each non-empty one."""
        from ...bus.deadletters import AmqpDeadLetters

        receipts = queue_name(
            self.cluster.namespace, "printer-agent", ReceiptRequested, self.kiosk_id
        )
        letters = AmqpDeadLetters(url, self.cluster.namespace, extra_queues=[receipts])
        try:
            rows = await letters.summary()
        finally:
            await letters.close()
        counts = {row.queue: row.count for row in rows}
        reasons = [f"{r.queue}: {r.last_error or 'no reason recorded'}" for r in rows if r.count]
        return counts, reasons
