"""`dialog kiosk add|revoke|list`: booth credentials, run by the center's IT staff."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from dialog_platform.component import Command, Context

from .kiosks import KioskExists
from .wiring import build_parts

KIOSK_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def _configure(parser: argparse.ArgumentParser) -> None:
    # `--data-dir` is accepted after the subcommand too (`dialog kiosk add ID --data-dir D`).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS, help="data directory")
    sub = parser.add_subparsers(dest="kiosk_command", required=True)
    add = sub.add_parser(
        "add", parents=[common], help="register a kiosk and print its token on the last line"
    )
    add.add_argument("kiosk_id", metavar="ID", help="lowercase letters, digits, dashes")
    add.add_argument(
        "--location", required=True, help="the center and booth, as printed on receipts"
    )
    add.add_argument(
        "--rotate", action="store_true", help="issue a new token for an existing kiosk"
    )
    add.add_argument(
        "--center", help="the service center its operator looks after (default: the location)"
    )
    revoke = sub.add_parser("revoke", parents=[common], help="refuse a kiosk's token from now on")
    revoke.add_argument("kiosk_id", metavar="ID")
    sub.add_parser("list", parents=[common], help="list kiosks")


async def _run(ctx: Context, args: argparse.Namespace) -> int:
    from . import repository as repo

    kiosks = build_parts(ctx).kiosks

    await repo.create_indexes(ctx.db)
    if args.kiosk_command == "add":
        if not KIOSK_ID.match(args.kiosk_id):
            print("kiosk ID: 2-63 lowercase letters, digits and dashes", file=sys.stderr)
            return 2
        try:
            token = await kiosks.register(
                args.kiosk_id, args.location, rotate=args.rotate, center=args.center
            )
        except KioskExists:
            print(f"kiosk {args.kiosk_id} exists; use --rotate for a new token", file=sys.stderr)
            return 1
        print(f"kiosk {args.kiosk_id} registered ({args.location}); its token:", file=sys.stderr)
        print(token)
        return 0
    if args.kiosk_command == "revoke":
        if await kiosks.revoke(args.kiosk_id):
            print(f"kiosk {args.kiosk_id} revoked")
            return 0
        print(f"no kiosk {args.kiosk_id}", file=sys.stderr)
        return 1
    for kiosk in await repo.list_kiosks(ctx.db):
        state = "revoked" if kiosk.get("revoked_at") else "active"
        print(f"{kiosk['_id']}\t{state}\t{kiosk['location']}")
    return 0


KIOSK_COMMAND = Command(
    name="kiosk", help="manage booth credentials", configure=_configure, run=_run
)
