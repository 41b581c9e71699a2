"""How fast a killed service is back: SIGKILL, launch, and the time until `/readyz` says 200.

Every service runs as its own process against RabbitMQ, nx-27017 and moto's S3 server, as the
system tests start them. Each is killed with SIGKILL and started again `--rounds` times; the time
from launch to the first 200 from `/readyz` is what a rolling update or a crash costs.

Side by side, in the same run, the floor: a bare FastAPI app under uvicorn that imports what
every service imports (FastAPI, PyMongo, aio-pika, httpx) and is ready once it has connected to
the same broker and database. The ratio says what Dialog's own start-up adds to that floor.
`dialog healthcheck` is timed beside `python -c pass`, since the image runs it every 10 s.
Goal (issue 10, item 4): each service back in about two seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx

from dialog_platform.net import free_port
from dialog_platform.testing.fixtures import delete_namespace
from dialog_platform.testing.launch import SERVICES, TEST_SECRET, Distributed, dialog_exe
from dialog_platform.testing.servers import embedded_mongo, ensure_rabbitmq, moto_s3, s3_media_url

BARE_APP = textwrap.dedent(
    """
    import asyncio, sys
    import aio_pika, httpx, uvicorn
    from fastapi import FastAPI
    from pymongo import AsyncMongoClient

    bus_url, mongo_url, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ready = {"ok": False}
    app = FastAPI()

    @app.on_event("startup")
    async def connect() -> None:
        app.state.bus = await aio_pika.connect_robust(bus_url)
        app.state.mongo = AsyncMongoClient(mongo_url)
        await app.state.mongo.admin.command("ping")
        app.state.http = httpx.AsyncClient()
        ready["ok"] = True

    @app.get("/readyz")
    async def readyz() -> dict[str, bool]:
        return ready

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
    """
)


def wait_200(url: str, popen: subprocess.Popen[bytes], limit_s: float = 60.0) -> float:
    started = time.monotonic()
    with httpx.Client(timeout=1.0) as client:
        while time.monotonic() - started < limit_s:
            if popen.poll() is not None:
                raise RuntimeError(f"{url} exited with {popen.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if client.get(url).status_code == 200:
                    return time.monotonic() - started
            time.sleep(0.02)
    raise RuntimeError(f"{url} not ready within {limit_s} s")


def bare_restarts(bus_url: str, mongo_url: str, rounds: int, tmp: Path) -> list[float]:
    script = tmp / "bare_app.py"
    script.write_text(BARE_APP)
    times = []
    for _ in range(rounds):
        port = free_port()
        popen = subprocess.Popen(
            [sys.executable, str(script), bus_url, mongo_url, str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            times.append(wait_200(f"http://127.0.0.1:{port}/readyz", popen))
        finally:
            popen.kill()
            popen.wait()
    return times


def command_time(args: list[str], env: dict[str, str], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.monotonic()
        subprocess.run(args, env=env, check=False, capture_output=True)
        times.append(time.monotonic() - started)
    return times


def service_restarts(cluster: Distributed, name: str, rounds: int, kiosk: str) -> list[float]:
    times = []
    for _ in range(rounds):
        cluster.processes[name].stop(kill=True)
        started = time.monotonic()
        process = cluster.start_one(name, printer_kiosk=kiosk if name == "printer-agent" else None)
        # start_one returns once /readyz answered 200 (launch.wait_ready).
        times.append(time.monotonic() - started)
        assert process.alive()
    return times


def row(label: str, times: list[float], floor: float | None) -> str:
    median = statistics.median(times)
    spread = f"{min(times):.2f}-{max(times):.2f}"
    ratio = f"{median / floor:5.2f}" if floor else "     "
    return f"{label:22s} {median:7.2f} s   {spread:>11s}   {ratio}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="kills per service (3)")
    parser.add_argument("--services", default=",".join(SERVICES), help="comma-separated")
    args = parser.parse_args()
    wanted = [s.strip() for s in args.services.split(",") if s.strip()]
    rabbit = ensure_rabbitmq()
    with tempfile.TemporaryDirectory() as tmp_s, contextlib.ExitStack() as stack:
        tmp = Path(tmp_s)
        namespace = f"restart-{os.getpid()}"
        # Last out: the namespace's queues would hold the broker's file handles for good.
        stack.callback(lambda: asyncio.run(delete_namespace(rabbit, namespace)))
        mongo_url = stack.enter_context(embedded_mongo(tmp / "mongo"))
        s3 = stack.enter_context(moto_s3())
        cluster = Distributed(
            data_dir=tmp / "cluster",
            bus_url=rabbit,
            mongo_url=mongo_url,
            media_url=s3_media_url(s3, "restart-bench"),
            namespace=namespace,
            db_prefix=f"restart{os.getpid()}",
        )
        stack.callback(cluster.stop)
        for name in SERVICES:
            if name != "printer-agent":
                cluster.start_one(name)
        cluster.kiosk_add("bench-booth", "Bench")
        cluster.start_one("printer-agent", printer_kiosk="bench-booth")

        print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        floor_times = bare_restarts(rabbit, mongo_url, args.rounds, tmp)
        floor = statistics.median(floor_times)
        print(f"\n{'launch -> /readyz 200':22s} {'median':>9s}   {'min-max':>11s}   ratio")
        print(row("bare FastAPI (floor)", floor_times, None))
        results = {}
        for name in wanted:
            results[name] = service_restarts(cluster, name, args.rounds, "bench-booth")
            print(row(name, results[name], floor), flush=True)

        env = {**os.environ, "DIALOG_SECRET_KEY": TEST_SECRET}
        env["DIALOG_PORT"] = str(cluster.ports["routing"])
        python_floor = command_time([sys.executable, "-c", "pass"], env, args.rounds)
        health = command_time([dialog_exe(), "healthcheck"], env, args.rounds)
        print(row("python -c pass", python_floor, None))
        print(row("dialog healthcheck", health, statistics.median(python_floor)))
        print(f"load average at end: {os.getloadavg()[0]:.2f}")
        worst = max(statistics.median(t) for t in results.values())
        print(f"\nslowest service's median restart: {worst:.2f} s (floor {floor:.2f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
