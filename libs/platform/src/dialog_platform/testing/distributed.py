"""`make run-distributed`: every service in its own process on local RabbitMQ, nx-27017, moto S3.

For developers; production runs the same targets against RabbitMQ, MongoDB and MinIO.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import time
from pathlib import Path

from .launch import SERVICES, Distributed
from .servers import embedded_mongo, ensure_rabbitmq, moto_s3, s3_media_url


def main() -> int:
    # moto's S3 server logs every request on stderr, burying the addresses printed below.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    data_dir = Path("data/distributed").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    rabbit = ensure_rabbitmq()
    with contextlib.ExitStack() as stack:
        mongo_url = stack.enter_context(embedded_mongo(data_dir / "mongo"))
        s3 = stack.enter_context(moto_s3())
        cluster = Distributed(
            data_dir=data_dir,
            bus_url=rabbit,
            mongo_url=mongo_url,
            media_url=s3_media_url(s3, "dialog-videos"),
            namespace="dialog-dev",
            db_prefix="dialogdev",
        )
        stack.callback(cluster.stop)
        for name in SERVICES:
            if name == "printer-agent":
                continue
            cluster.start_one(name)
            print(f"{name:14s} {cluster.url(name)}", file=sys.stderr)
        location = "Әзірлеу терминалы / Терминал разработки"
        token = cluster.kiosk_add("dev-booth", location, rotate=True)
        cluster.start_one("printer-agent", printer_kiosk="dev-booth")
        print(f"{'printer-agent':14s} {cluster.url('printer-agent')}", file=sys.stderr)
        print(f"kiosk 'dev-booth' token: {token}", file=sys.stderr)
        gateway = cluster.url("kiosk-gateway")
        print(
            f"try: curl -H 'Authorization: Bearer {token}' {gateway}/api/v1/officials",
            file=sys.stderr,
        )
        print(f"receipts: {data_dir / 'printer-agent' / 'receipts'}", file=sys.stderr)
        print("press Ctrl+C to stop", file=sys.stderr)
        stop = {"now": False}
        signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
        try:
            while not stop["now"]:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
