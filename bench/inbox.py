"""Inbox and overdue-list queries with 10,000 and with 1,000,000 cases in routing's store.

Cases are generated directly into routing's `cases` collection (insert_many in large batches),
with the indexes routing creates (`routing.repository.create_indexes`), on an nx-27017 server
this script starts: one database per size, on the same server, which is then restarted on
them. Through routing's own query
code (`routing.queries.page`, which calls `routing.repository.find_by_key`) it then runs:

- the inbox: one official's open cases sorted by control date, first page (50);
- the control office's overdue list: open cases past their control date, first page (50);

N times each (200 by default) at each size, and prints p50 and p95 per query and size and the
ratio p95(large)/p95(small). Goal: ≤ 2 (the queries walk an index, they do not scan).

The two sizes are measured side by side: query i runs against the small store and the large one
back to back (which goes first alternates), so a moment of load on the machine falls on both
sizes alike instead of on whichever ran later.

Like is compared with like: a page's cost grows with its rows, so every page measured must be
full at both sizes. Cases are spread over `--officials` officials (40 by default, an akimat's
akim, deputies and heads of department); with 10,000 cases each of them has about 75 open
cases, more than a page. The script prints how many of the pages it got were full, and says so
if some of a size's pages were short.

Both lists are served by the composite sort keys routing stores on each case
(`routing.repository.case_keys`, added here as routing adds them): one range on a one-field
index, which nx-27017 walks in its index.

Search (the dashboard's search box, `dashboard.workbench.find` on its read model
`case_index`, one document per case with the search keys `dashboard.search.index_keys` gives
it): by an exact registration number (the control office, every case), by a name word in its
Russian spelling (one official's cases) and by the last four digits of a phone (one official's
cases), at the same sizes side by side. Each search is one range on one index (a name, one per
name slot). A name word's page is full at both sizes; a number finds one case and a phone's last
four digits a few, more at the larger size (the figures say how many).

`--server embedded` (the default) is the server as `dialog run` starts it
(`dialog_platform.embedded`, with its compatibility and speed fixes); `--server plain` is
nx-27017 as published; `--server both` runs one after the other. A query set that runs past
`--budget-s` stops early and says how many queries it ran. It also asks the server to `explain`
each query, as routing sends it, and prints what it answers.
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
from types import SimpleNamespace
from typing import Any

from dashboard import workbench
from dashboard.models import Account
from dashboard.repository import create_read_model_indexes
from dashboard.search import index_keys, name_words
from dialog_platform.documents import connect
from dialog_platform.embedded import EmbeddedMongo
from dialog_platform.net import free_port, wait_for_port
from routing import repository
from routing.queries import CaseFilter, build_query, key_range, page

TODAY = date(2026, 11, 16)
DEFAULT_OFFICIALS = 40
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


SURNAMES = ["Нұрланова", "Тоқтаров", "Әбенова", "Жұмабаев", "Сейітова", "Оспанов", "Ким", "Иванова"]
FIRST = ["Айгүл", "Ерлан", "Гүлнар", "Дәулет", "Әсел", "Нұрсұлтан", "Мария", "Қайрат", "Зәуреш"]
PATRONYMIC = ["Серікқызы", "Бекұлы", "Маратовна", "Нұрланұлы", "Ивановна", "Асқарұлы"]


def make_case_file(n: int, rng: random.Random, staff: list[str]) -> dict[str, Any]:
    """The dashboard's read-model document of case n, as its event handlers store it."""
    name = f"{rng.choice(FIRST)} {rng.choice(PATRONYMIC)} {rng.choice(SURNAMES)}"
    number = f"2026{n:06d}"
    doc = {
        "_id": f"{n:012d}",
        "registration_number": f"2026-{n:06d}-{damm_digit(number)}",
        "official_id": rng.choice(staff),
        "phone": f"+7701{rng.randrange(10**7):07d}",
        "full_name": name,
        "iin": f"{rng.randrange(10**12):012d}",
        "video_duration_s": float(rng.randint(20, 240)),
        "recorded_at": datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=n),
        "rev": 1,
    }
    return {**doc, "words": name_words(name), **index_keys(doc)}


def damm_digit(digits: str) -> int:
    from dashboard.search import damm

    return damm(digits)


async def fill_case_files(db: Any, size: int, staff: list[str]) -> None:
    await db.case_index.drop()
    await create_read_model_indexes(db)
    rng = random.Random(size + 1)
    began = time.perf_counter()
    for first in range(0, size, BATCH):
        docs = [make_case_file(n, rng, staff) for n in range(first, min(first + BATCH, size))]
        await db.case_index.insert_many(docs, ordered=False)
    print(f"    {size:,} case files for search stored in {time.perf_counter() - began:.1f} s")


def search_sets(size: int, queries: int, staff: list[str]) -> dict[str, list[tuple[Account, str]]]:
    rng = random.Random(size + 2)
    control = Account("control", "controller", None, True)

    def official() -> Account:
        who = rng.choice(staff)
        return Account(who, "official", who, True)

    def number() -> str:
        n = rng.randrange(1, size)
        return f"2026-{n:06d}-{damm_digit(f'2026{n:06d}')}"

    return {
        "number": [(control, number()) for _ in range(queries)],
        "name": [(official(), "Нурланова") for _ in range(queries)],
        "phone": [(official(), f"{rng.randrange(10**4):04d}") for _ in range(queries)],
    }


async def measure_search(
    url: str, label: str, sizes: list[int], queries: int, budget: float, staff: list[str]
) -> None:
    client = connect(url)
    stores = {size: SimpleNamespace(db=client[f"bench_inbox_{size}"]) for size in sizes}
    sets = {size: search_sets(size, queries, staff) for size in sizes}
    small, large = sizes[0], sizes[-1]
    print(f"\n[{label}] search: {queries} queries per kind and size, side by side")
    for kind in ("number", "name", "phone"):
        times: dict[int, list[float]] = {size: [] for size in sizes}
        hits: dict[int, int] = dict.fromkeys(sizes, 0)
        began = time.perf_counter()
        for i in range(-10, queries):  # ten untimed warm-up queries first
            for size in sizes if i % 2 == 0 else sizes[::-1]:
                account, text = sets[size][kind][max(i, 0)]
                t0 = time.perf_counter()
                found, _ = await workbench.find(stores[size], account, text)  # type: ignore[arg-type]
                took = (time.perf_counter() - t0) * 1000
                if i >= 0:
                    times[size].append(took)
                    hits[size] += len(found)
            if time.perf_counter() - began > budget:
                break
        p95s = {}
        for size in sizes:
            got = times[size]
            p95s[size] = pct(got, 0.95)
            print(
                f"    {kind:8s} {size:>9,} cases: n={len(got):3d} p50={pct(got, 0.5):7.2f} ms "
                f"p95={p95s[size]:7.2f} ms rows per search {hits[size] / max(len(got), 1):.1f}",
                flush=True,
            )
        ratio = p95s[large] / p95s[small]
        goal = ratio <= 2 and p95s[large] < 100
        print(
            f"    {kind:8s} p95 ratio {large:,} / {small:,}: {p95s[large]:.2f} / "
            f"{p95s[small]:.2f} ms = {ratio:.2f}  (goal ≤ 2 and < 100 ms: "
            f"{'met' if goal else 'MISSED'})"
        )
    await client.close()


async def fill(db: Any, size: int, rng: random.Random, staff: list[str]) -> float:
    began = time.perf_counter()
    for first in range(0, size, BATCH):
        docs = [make_case(n, rng, staff) for n in range(first, min(first + BATCH, size))]
        await db.cases.insert_many(docs, ordered=False)
        done = min(first + BATCH, size)
        if done % 100_000 == 0 or done == size:
            rate = done / (time.perf_counter() - began)
            print(f"    {done:>9,} cases stored ({rate:,.0f}/s)", flush=True)
    return time.perf_counter() - began


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def timed_page(db: Any, f: CaseFilter) -> tuple[float, int]:
    t0 = time.perf_counter()
    found, _ = await page(db, f, today=TODAY, soon_until=TODAY + timedelta(days=3), limit=PAGE)
    return (time.perf_counter() - t0) * 1000, len(found)


async def side_by_side(
    stores: dict[int, Any], filters: dict[int, list[CaseFilter]], budget_s: float
) -> tuple[dict[int, list[float]], dict[int, int]]:
    """Query i against every store back to back, the order turned round each time; the
    times and how many full pages each store gave."""
    times: dict[int, list[float]] = {size: [] for size in stores}
    full = dict.fromkeys(stores, 0)
    order = sorted(stores)
    began = time.perf_counter()
    for i in range(min(len(f) for f in filters.values())):
        for size in order if i % 2 == 0 else order[::-1]:
            took, found = await timed_page(stores[size], filters[size][i])
            times[size].append(took)
            full[size] += found == PAGE
        if time.perf_counter() - began > budget_s:
            break
    return times, full


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


async def fill_store(db: Any, size: int, staff: list[str]) -> None:
    await db.cases.drop()
    await repository.create_indexes(db)
    print(f"\n  generating {size:,} cases ({len(staff)} officials)", flush=True)
    took = await fill(db, size, random.Random(size), staff)
    print(f"    generated {size:,} cases (insert_many, {BATCH:,} each) in {took:.1f} s")


def query_sets(size: int, queries: int, staff: list[str]) -> dict[str, list[CaseFilter]]:
    rng = random.Random(size)
    return {
        "inbox": [
            CaseFilter(official_id=rng.choice(staff), status="open", sort="control_date")
            for _ in range(queries)
        ],
        "overdue": [CaseFilter(due="overdue", sort="control_date") for _ in range(queries)],
    }


async def generate(url: str, label: str, sizes: list[int], staff: list[str]) -> None:
    client = connect(url)
    print(f"[{label}] {len(sizes)} stores on one server: {', '.join(f'{n:,}' for n in sizes)}")
    for size in sizes:
        await fill_store(client[f"bench_inbox_{size}"], size, staff)
        await fill_case_files(client[f"bench_inbox_{size}"], size, staff)
    await client.close()


async def measure(
    url: str, label: str, sizes: list[int], queries: int, budget: float, staff: list[str]
) -> None:
    """Query the stores side by side and print the figures and ratios."""
    client = connect(url)
    stores = {size: client[f"bench_inbox_{size}"] for size in sizes}
    sets = {size: query_sets(size, queries, staff) for size in sizes}
    small, large = sizes[0], sizes[-1]
    print(f"\n[{label}] {queries} queries per list and size, side by side")
    for name in ("inbox", "overdue"):
        filters = {size: sets[size][name] for size in sizes}
        # Untimed warm-up: the connection, the server's statement cache, the index's top pages.
        await side_by_side(stores, {n: f[:10] for n, f in filters.items()}, budget)
        times, full = await side_by_side(stores, filters, budget)
        p95s = {}
        for size in sizes:
            got = times[size]
            p50, p95 = pct(got, 0.50), pct(got, 0.95)
            p95s[size] = p95
            note = "" if len(got) == queries else f" (stopped after {len(got)}: over budget)"
            short = "" if full[size] == len(got) else "  SOME PAGES SHORT: not like with like"
            print(
                f"    {name:8s} {size:>9,} cases: n={len(got):3d} p50={p50:7.2f} ms "
                f"p95={p95:7.2f} ms full pages of {PAGE}: {full[size]}/{len(got)}{short}{note}",
                flush=True,
            )
        ratio = p95s[large] / p95s[small]
        ok = ratio <= 2
        print(
            f"    {name:8s} p95 ratio {large:,} / {small:,}: {p95s[large]:.2f} / "
            f"{p95s[small]:.2f} ms = {ratio:.2f}  (goal ≤ 2: {'met' if ok else 'MISSED'})"
        )
    for size in sizes:
        for name in ("inbox", "overdue"):
            plan = await explain(stores[size], sets[size][name][0])
            print(f"    explain {name:8s} {size:>9,}: {plan}")
    await client.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--server", choices=["embedded", "plain", "both"], default="embedded")
    parser.add_argument("--budget-s", type=float, default=300.0, help="per list, all sizes")
    parser.add_argument(
        "--officials",
        type=int,
        default=DEFAULT_OFFICIALS,
        help="cases are spread over this many officials; keep an inbox at the smallest size "
        "longer than a page (about 0.3 × cases / officials open cases each)",
    )
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    servers = ["embedded", "plain"] if args.server == "both" else [args.server]
    for kind in servers:
        with tempfile.TemporaryDirectory(prefix="dialog-bench-inbox-") as tmp:
            start = embedded if kind == "embedded" else plain_nx
            staff = officials(args.officials)
            with start(Path(tmp)) as url:
                await generate(url, kind, sizes, staff)
            # Measured at rest, as a running system reads them: the bulk load's write-ahead log
            # checkpointed and its leftovers gone, alike for both sizes.
            print(f"\n[{kind}] server restarted on the stores")
            with start(Path(tmp)) as url:
                await measure(url, kind, sizes, args.queries, args.budget_s, staff)
                await measure_search(url, kind, sizes, args.queries, args.budget_s, staff)


if __name__ == "__main__":
    asyncio.run(main())
