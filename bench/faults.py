"""Faults: appeals through the booth API while services (and optionally the broker) are SIGKILLed.

The distributed system as the system tests start it (one process per service on RabbitMQ,
nx-27017 and moto S3, SMS to the local SMSC stand-in). N appeals go through the booth API with
the booth page's retries; every few seconds a random service is killed with SIGKILL and started
again. With --broker the run starts a RabbitMQ node of its own (its own ports and data folder,
never the machine's broker) and kills that too. Once the system has settled it prints, per
kind: appeals registered, receipts printed, routing's cases, officials' and citizens' SMS
(missing and twice) and the dead letters.

Goal: nothing lost, nothing twice, no dead letter; exits non-zero otherwise. A receipt printed
twice is allowed only when printer-agent died between printing it and journalling it (the
documented print-then-crash window); those are reported apart.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from dialog_platform.testing.faults import FaultConfig, run


def seconds_range(text: str) -> tuple[float, float]:
    low, sep, high = text.partition("-")
    try:
        first = float(low)
        last = float(high) if sep else first
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MIN-MAX seconds, got {text!r}") from None
    if not 0 < first <= last:
        raise argparse.ArgumentTypeError(f"need 0 < MIN <= MAX, got {text!r}")
    return first, last


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--appeals", type=int, default=400, help="appeals to make (400)")
    parser.add_argument(
        "--kill-every",
        type=seconds_range,
        default=(1.0, 3.0),
        metavar="MIN-MAX",
        help="seconds between a restart and the next kill (1-3)",
    )
    parser.add_argument(
        "--kills", type=int, default=0, help="at least this many kills, appeals spread over them"
    )
    parser.add_argument("--broker", action="store_true", help="also kill a broker of our own")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=4, help="citizens at once (4)")
    parser.add_argument(
        "--pace",
        type=float,
        default=None,
        metavar="S",
        help="seconds between appeal starts (default: spread over --kills, else 0.5)",
    )
    parser.add_argument("--settle-timeout", type=float, default=240.0, metavar="S")
    parser.add_argument(
        "--keep", type=Path, default=None, metavar="DIR", help="work in DIR and keep it (logs)"
    )
    args = parser.parse_args()
    if args.appeals < 1 or args.kills < 0 or args.concurrency < 1:
        parser.error("--appeals and --concurrency must be positive, --kills not negative")

    def interrupt(signum: int, frame: FrameType | None) -> None:
        # SIGTERM cleans up like Ctrl-C: every process and folder of the run goes.
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    config = FaultConfig(
        appeals=args.appeals,
        kill_every=args.kill_every,
        kills=args.kills,
        broker=args.broker,
        seed=args.seed,
        concurrency=args.concurrency,
        pace_s=args.pace,
        settle_timeout_s=args.settle_timeout,
    )
    started = time.monotonic()

    def log(text: str) -> None:
        print(f"[{time.monotonic() - started:6.1f} s] {text}", file=sys.stderr, flush=True)

    report = run(config, args.keep, log=log)
    print(report.table())
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
