"""Regenerate the settings reference in README.md from the settings classes (`make
settings-reference`); with --check, only say whether it is current (exit 1 when stale).

The table comes from dialog_platform.reference: CommonSettings and every component's own
settings class, so a setting added to a class appears here by running this once.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dialog_platform.reference import BEGIN, END, reference

README = Path(__file__).resolve().parents[1] / "README.md"


def updated(text: str) -> str:
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return f"{text[:start]}\n{reference()}\n{text[end:]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    parser.add_argument("--readme", type=Path, default=README)
    args = parser.parse_args(argv)
    text = args.readme.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        print(f"{args.readme}: no {BEGIN} … {END} section", file=sys.stderr)
        return 2
    new = updated(text)
    if args.check:
        if new != text:
            print(f"{args.readme}: settings reference is stale: run `make settings-reference`")
            return 1
        return 0
    if new != text:
        args.readme.write_text(new, encoding="utf-8")
        print(f"{args.readme}: settings reference updated")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
