"""`dialog dlq list|show|replay|drop`: the dead-letter queues from the command line.

Imported only for `dialog dlq`, and it imports aio-pika and PyMongo only inside the command, so
the other commands never pay for it. In the single process the command talks to the embedded
server that `dialog run` started on the same data directory; a replay there is a request the
running process carries out within a second or so.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .bus.deadletters import DeadLetter, DeadLetters, DlqSummary

EXIT_UNKNOWN_QUEUE = 2


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="dlq_action", required=True, metavar="ACTION")

    def action(name: str, help_: str) -> argparse.ArgumentParser:
        p = actions.add_parser(name, help=help_)
        # SUPPRESS: the same option given before the action (`dialog dlq --data-dir X list`)
        # is not overwritten by this parser's default.
        p.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        return p

    action("list", "every dead-letter queue: count, oldest, last error")
    show = action("show", "the messages of one queue (type, id, subject, time; no payload)")
    show.add_argument("queue", metavar="QUEUE")
    show.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    replay = action("replay", "hand messages back to their consumer, attempts reset")
    replay.add_argument("queue", metavar="QUEUE")
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", dest="ids", action="append", metavar="ID", help="repeatable")
    which.add_argument("--all", action="store_true", help="every message of the queue")
    drop = action("drop", "remove one message for good")
    drop.add_argument("queue", metavar="QUEUE")
    drop.add_argument("--id", required=True, metavar="ID")


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    head = "  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()
    return "\n".join([head, *lines])


def _one_line(text: str | None, width: int = 100) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def format_summary(rows: list[DlqSummary]) -> str:
    from .bus.deadletters import format_age

    return _table(
        [
            [r.queue, str(r.count), format_age(r.oldest_age_s), _one_line(r.last_error)]
            for r in rows
        ],
        ["QUEUE", "COUNT", "OLDEST", "LAST ERROR"],
    )


def format_letters(letters: list[DeadLetter]) -> str:
    def when(value: Any) -> str:
        return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "—"

    return _table(
        [
            [
                d.id,
                d.type or "—",
                d.subject or "—",
                when(d.time),
                d.consumer or "—",
                str(d.attempts),
                when(d.failed_at),
                _one_line(d.reason, 80),
            ]
            for d in letters
        ],
        ["ID", "TYPE", "SUBJECT", "TIME", "CONSUMER", "ATTEMPTS", "FAILED AT", "REASON"],
    )


async def _act(letters: DeadLetters, args: argparse.Namespace) -> int:
    action = args.dlq_action
    if action == "list":
        rows = await letters.summary()
        print(format_summary(rows))
        waiting = sum(r.count for r in rows)
        print(f"\n{waiting} dead letter(s) in {sum(1 for r in rows if r.count)} queue(s)")
        return 0
    if action == "show":
        if args.limit < 1:
            print("dialog dlq: --limit must be at least 1", file=sys.stderr)
            return EXIT_UNKNOWN_QUEUE
        shown = await letters.show(args.queue, args.limit)
        print(format_letters(shown) if shown else f"{args.queue}: empty")
        return 0
    if action == "replay":
        ids = None if args.all else list(args.ids)
        count = await letters.replay(args.queue, ids)
        print(f"replayed {count} message(s) from {args.queue}")
        return 0 if ids is None or count == len(set(ids)) else 1
    if action == "drop":
        if await letters.drop(args.queue, args.id):
            print(f"dropped {args.id} from {args.queue}")
            return 0
        print(f"dialog dlq: no message {args.id} in {args.queue}", file=sys.stderr)
        return 1
    raise AssertionError(action)


async def _run(args: argparse.Namespace) -> int:
    from .bus.deadletters import ReplayRefused, UnknownQueue, open_dead_letters
    from .settings import CommonSettings

    overrides: dict[str, Any] = {}
    if getattr(args, "data_dir", None) is not None:
        overrides["data_dir"] = args.data_dir
    settings = CommonSettings(**overrides)
    mongo = None
    embedded = None
    if settings.bus_url is None:
        from .documents import connect
        from .embedded import EmbeddedMongo

        if settings.mongo_url is not None:
            url = settings.mongo_url.get_secret_value()
        else:
            data_dir = settings.data_dir.resolve()
            running = EmbeddedMongo.running(data_dir)
            if running is None:
                if not (data_dir / "db").exists():
                    print(f"dialog dlq: no data in {data_dir}", file=sys.stderr)
                    return 1
                embedded = EmbeddedMongo(data_dir=data_dir)
                embedded.start()
                running = embedded
            url = running.url
        mongo = connect(url)
    letters = open_dead_letters(settings, mongo)
    try:
        return await _act(letters, args)
    except UnknownQueue as exc:
        print(f"dialog dlq: {exc}; `dialog dlq list` shows the queues", file=sys.stderr)
        return EXIT_UNKNOWN_QUEUE
    except ReplayRefused as exc:
        print(f"dialog dlq: {exc}; the dead letters stay where they were", file=sys.stderr)
        return 1
    finally:
        await letters.close()
        if mongo is not None:
            await mongo.close()
        if embedded is not None:
            await embedded.stop_async()


def command(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_run(args))
    except (OSError, TimeoutError) as exc:
        print(f"dialog dlq: cannot reach the bus or the database: {exc}", file=sys.stderr)
        return 1
