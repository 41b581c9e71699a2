"""Inbox and overdue-list queries with 10,000 and with 1,000,000 cases in routing's store.

Cases are generated directly into routing's `cases` collection (insert_many in large batches),
with the indexes routing creates (`routing.repository.create_indexes`), on an nx-27017 server
this script starts. At each size it runs, through routing's own query code
(`routing.queries.page`, which calls `routing.repository.find_cases`):

- the inbox: one official's open cases sorted by control date, first page (50);
- the control office's overdue list: open cases past their control date, first page (50);

N times each (200 by default), and prints p50 and p95 per query and size and the ratio
p95(large)/p95(small). Goal: ≤ 2 (the queries walk an index, they do not scan).

A page's cost grows with its rows. Spread over the default 200 officials, an inbox at 10,000
cases holds about 15 open cases, short of a page, and a full page of 50 at 1,000,000; with
`--officials 50` both sizes give full pages, so the ratio measures the store's size alone.

Both lists are served by the composite sort keys routing stores on each case
(`routing.repository.case_keys`, added here as routing adds them): one range on a one-field
index, which nx-27017 walks in its index.

`--server embedded` is the server as `dialog run` starts it (`dialog_platform.embedded_nx`, with
nx-27017's Python paths forced for write commands only); `--server plain` is nx-27017 as
published; `--server both` runs one after the other. A query set that runs past `--budget-s`
stops early and says how many queries it ran. It also asks the server to `explain` each query,
as routing sends it, and prints what it answers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from dialog_platform.documents import EmbeddedMongo, connect
from dialog_platform.net import free_port, wait_for_port
from routing import repository
from routing.queries import CaseFilter, build_query, key_range, page

TODAY = date(2026, 11, 16)
DEFAULT_OFFICIALS = 200
DEPARTMENTS = [f"Отдел {i}" for i in range(20)]
BATCH = 10_000
PAGE = 50


@contextlib.contextmanager
def plain_nx(data_dir: Path) -> Iterator[str]:
    """nx-27017 as published: its SQL query paths, none of our compatibility switches."""
    port = free_port()
    (data_dir / "db").mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from nx_27017.nx_27017 import main; main()",
            "--data-dir",
            str(data_dir / "db"),
            "--host",
            "127.0.0.1",
            "-p",
            str(port),
            "--pid-file",
            str(data_dir / "nx.pid"),
            "--log-file",
            str(data_dir / "nx.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port("127.0.0.1", port, timeout=30)
        yield f"mongodb://127.0.0.1:{port}/?directConnection=true"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def embedded(data_dir: Path) -> Iterator[str]:
    server = EmbeddedMongo(data_dir=data_dir)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def officials(count: int) -> list[str]:
    return [f"official-{i:03d}" for i in range(count)]


def make_case(n: int, rng: random.Random, staff: list[str]) -> dict[str, Any]:
    """A case as routing stores it; about 30 % open, 3 % of all overdue."""
    recorded = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=n % 1_500_000)
    control = recorded.date() + timedelta(days=14)
    status = rng.choices(["answered", "new", "in_progress"], weights=[70, 15, 15])[0]
    if status != "answered" and rng.random() < 0.9:
        # Most open cases are recent: the control date lies ahead of TODAY.
        control = TODAY + timedelta(days=rng.randint(0, 20))
    appeal_id = f"{n:012d}"
    index = rng.randrange(len(staff))
    official = staff[index]
    case = {
        "_id": appeal_id,
        "appeal_id": appeal_id,
        "registration_number": f"2026-{n:06d}",
        "addressed_official_id": official,
        "official_id": official,
        "department": DEPARTMENTS[index % len(DEPARTMENTS)],
        "kiosk_id": "booth-1",
        "phone": "+77012345678",
        "category": "question",
        "language": "ru",
        "recorded_at": recorded,
        "recorded_date": recorded.date().isoformat(),
        "control_date": control.isoformat(),
        "legal_deadline": (control + timedelta(days=7)).isoformat(),
        "status": status,
        "open": status != "answered",
        "fired": [],
        "history": [{"at": recorded, "what": "routed", "official_id": official}],
    }
    return {**case, **repository.case_keys(case)}


async def fill(db: Any, start: int, stop: int, rng: random.Random, staff: list[str]) -> float:
    began = time.perf_counter()
    for first in range(start, stop, BATCH):
        docs = [make_case(n, rng, staff) for n in range(first, min(first + BATCH, stop))]
        await db.cases.insert_many(docs, ordered=False)
        done = min(first + BATCH, stop)
        if done % 100_000 == 0 or done == stop:
            rate = (done - start) / (time.perf_counter() - began)
            print(f"    {done:>9,} cases stored ({rate:,.0f}/s)", flush=True)
    return time.perf_counter() - began


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run_set(
    db: Any, name: str, filters: list[CaseFilter], budget_s: float
) -> tuple[list[float], int]:
    times: list[float] = []
    began = time.perf_counter()
    rows = 0
    for f in filters:
        t0 = time.perf_counter()
        found, _ = await page(db, f, today=TODAY, soon_until=TODAY + timedelta(days=3), limit=PAGE)
        times.append((time.perf_counter() - t0) * 1000)
        rows += len(found)
        if time.perf_counter() - began > budget_s:
            break
    return times, rows


async def explain(db: Any, f: CaseFilter) -> str:
    keyed = key_range(f, today=TODAY, soon_until=TODAY + timedelta(days=3))
    if keyed is not None:
        query = {keyed.key: keyed.bounds(descending=False, after=None)}
        sort = {keyed.key: 1}
    else:
        query = build_query(f, today=TODAY, soon_until=TODAY)
        sort = {f.sort.lstrip("-"): 1, "appeal_id": 1}
    try:
        answer = await db.command(
            "explain", {"find": "cases", "filter": query, "sort": sort, "limit": PAGE + 1}
        )
    except Exception as exc:  # the server may not implement explain; say so
        return f"explain refused: {type(exc).__name__}: {exc}"[:300]
    answer.pop("$clusterTime", None)
    answer.pop("operationTime", None)
    return json.dumps(answer, default=str, ensure_ascii=False)[:600]


async def bench_server(
    url: str, label: str, sizes: list[int], queries: int, budget: float, staff: list[str]
) -> dict[int, dict[str, float]]:
    client = connect(url)
    db = client["bench_routing"]
    await db.cases.drop()
    await repository.create_indexes(db)
    rng = random.Random(42)
    stored = 0
    results: dict[int, dict[str, float]] = {}
    for size in sizes:
        print(f"\n[{label}] generating up to {size:,} cases ({len(staff)} officials)", flush=True)
        took = await fill(db, stored, size, rng, staff)
        print(
            f"    generated {size - stored:,} cases (insert_many, {BATCH:,} each) in {took:.1f} s"
        )
        stored = size
        qrng = random.Random(size)
        inbox = [
            CaseFilter(official_id=qrng.choice(staff), status="open", sort="control_date")
            for _ in range(queries)
        ]
        overdue = [CaseFilter(due="overdue", sort="control_date") for _ in range(queries)]
        # One untimed warm-up each: connection, statement caches.
        await run_set(db, "warm", inbox[:1] + overdue[:1], budget)
        for name, filters in (("inbox", inbox), ("overdue", overdue)):
            times, rows = await run_set(db, name, filters, budget)
            p50, p95 = pct(times, 0.50), pct(times, 0.95)
            results.setdefault(size, {})[f"{name}_p50"] = p50
            results[size][f"{name}_p95"] = p95
            note = (
                ""
                if len(times) == queries
                else f" (stopped after {len(times)} of {queries}: over the {budget:.0f} s budget)"
            )
            print(
                f"    {name:8s} n={len(times):3d} p50={p50:9.2f} ms  p95={p95:9.2f} ms "
                f"rows/page={rows / max(len(times), 1):.0f}{note}",
                flush=True,
            )
        print(f"    explain inbox:   {await explain(db, inbox[0])}")
        print(f"    explain overdue: {await explain(db, overdue[0])}")
    await client.close()
    return results


def ratios(label: str, results: dict[int, dict[str, float]], sizes: list[int]) -> None:
    small, large = sizes[0], sizes[-1]
    print(f"\n[{label}] ratio p95({large:,}) / p95({small:,}), goal ≤ 2:")
    for name in ("inbox", "overdue"):
        a, b = results[small][f"{name}_p95"], results[large][f"{name}_p95"]
        print(
            f"    {name:8s} {b:9.2f} / {a:9.2f} ms = {b / a:6.2f}  "
            f"{'ok' if b / a <= 2 else 'MISSED'}"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--server", choices=["embedded", "plain", "both"], default="both")
    parser.add_argument("--budget-s", type=float, default=300.0, help="per query set and size")
    parser.add_argument(
        "--officials",
        type=int,
        default=DEFAULT_OFFICIALS,
        help="cases are spread over this many officials; with 200, an inbox at 10,000 cases "
        "holds about 15 open cases, less than a page, so its page is smaller than at 1,000,000",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    servers = ["embedded", "plain"] if args.server == "both" else [args.server]
    for kind in servers:
        with tempfile.TemporaryDirectory(prefix="dialog-bench-inbox-") as tmp:
            start = embedded if kind == "embedded" else plain_nx
            with start(Path(tmp)) as url:
                results = await bench_server(
                    url, kind, sizes, args.queries, args.budget_s, officials(args.officials)
                )
            ratios(kind, results, sizes)


if __name__ == "__main__":
    asyncio.run(main())
