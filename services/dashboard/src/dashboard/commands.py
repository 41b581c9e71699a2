"""`dialog user add|list|deactivate|password`: officials' dashboard accounts, for the IT staff."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from dialog_platform.component import Command, Context

from .accounts import AccountInvalid, generate_password
from .models import ROLES
from .wiring import build_accounts


def _configure(parser: argparse.ArgumentParser) -> None:
    # `--data-dir` is accepted after the subcommand too (`dialog user add X --data-dir D`).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS, help="data directory")
    sub = parser.add_subparsers(dest="user_command", required=True)
    add = sub.add_parser(
        "add",
        parents=[common],
        help="create an account; a generated password is printed on the last line",
    )
    add.add_argument("login", metavar="LOGIN", help="lowercase letters, digits, . _ -")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--center", help="an operator's service center (the booths' center)")
    add.add_argument("--official", metavar="ID", help="the official whose cases it handles")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    password = sub.add_parser("password", parents=[common], help="set a new password")
    password.add_argument("login", metavar="LOGIN")
    password.add_argument("--password-stdin", action="store_true")
    deactivate = sub.add_parser(
        "deactivate", parents=[common], help="refuse the account's logins and end its sessions"
    )
    deactivate.add_argument("login", metavar="LOGIN")
    sub.add_parser("list", parents=[common], help="list accounts")


def _read_password(from_stdin: bool) -> tuple[str, bool]:
    """(password, generated)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    if sys.stdin.isatty():
        typed = getpass.getpass("Password (empty: generate one): ")
        if typed:
            if getpass.getpass("Again: ") != typed:
                raise AccountInvalid("password", "passwords_differ")
            return typed, False
    return generate_password(), True


async def _run(ctx: Context, args: argparse.Namespace) -> int:
    from . import repository as repo

    await repo.create_indexes(ctx.db)
    accounts = build_accounts(ctx)
    try:
        if args.user_command == "add":
            password, generated = _read_password(args.password_stdin)
            account = await accounts.add(
                login=args.login,
                role=args.role,
                official_id=args.official,
                password=password,
                center=args.center,
            )
            print(f"account {account.login} ({account.role}) created", file=sys.stderr)
            if generated:
                print("its password:", file=sys.stderr)
                print(password)
            return 0
        if args.user_command == "password":
            password, generated = _read_password(args.password_stdin)
            if not await accounts.set_password(args.login, password):
                print(f"no account {args.login}", file=sys.stderr)
                return 1
            if generated:
                print(password)
            return 0
    except AccountInvalid as exc:
        print(f"{exc.field}: {exc.code.replace('_', ' ')}", file=sys.stderr)
        return 2
    if args.user_command == "deactivate":
        if await accounts.deactivate(args.login):
            print(f"account {args.login} deactivated")
            return 0
        print(f"no account {args.login}", file=sys.stderr)
        return 1
    for doc in await accounts.list():
        state = "active" if doc.get("active", True) else "inactive"
        print(f"{doc['_id']}\t{doc['role']}\t{doc.get('official_id') or '-'}\t{state}")
    return 0


USER_COMMAND = Command(
    name="user", help="manage the officials' dashboard accounts", configure=_configure, run=_run
)
