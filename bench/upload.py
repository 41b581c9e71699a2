"""Upload throughput: booth → kiosk-gateway → media-store → S3, against a direct minio put_object.

A 100 MB real WebM goes through the distributed services (each its own process, on RabbitMQ,
nx-27017 and moto's S3 server in its own process), alternating with a direct `put_object` of the
same file with the same part size to the same server (minio's default, 3 parts in parallel, and
one part at a time) and with the same file PUT straight into media-store (the booth path
without the gateway's hop), 5 runs each. Prints the throughputs, their ratios, and the peak memory
growth of the gateway and media-store processes. Then `--concurrent` (10) uploads at once
through the gateway against as many direct `put_object` calls at once: aggregate throughput,
and each process's memory growth.

Each run also uploads through a second, identical set of services with metrics and tracing on
(spans exported by OTLP to a local receiver), the first having both off: what instrumentation
costs, side by side.

Goals: at least 0.9 of minio's default put_object; memory growth under 64 MB per process, also
with 10 uploads at once, and their aggregate at least 0.8 of 10 direct put_object calls;
instrumented / plain at least 0.95.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
from minio import Minio

from dialog_platform.internal import HEADER, token_for
from dialog_platform.media.s3 import DEFAULT_PART_SIZE
from dialog_platform.net import free_port, wait_for_port
from dialog_platform.testing.launch import TEST_SECRET, Distributed
from dialog_platform.testing.otlp import OtlpReceiver
from dialog_platform.testing.servers import embedded_mongo, ensure_rabbitmq, s3_media_url
from dialog_platform.testing.webm import make_webm_of_size

MB = 1_000_000
MiB = 1024 * 1024


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


MOTO_PID: list[int] = []


@contextlib.contextmanager
def moto_process() -> Iterator[str]:
    """moto's S3 server in its own process, so it does not share a GIL with what it measures."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        # Objects stay in memory: by default moto spills anything over 5 MB to temporary
        # files, and disk writeback then makes both paths' timings noisy.
        env={**os.environ, "MOTO_S3_DEFAULT_KEY_BUFFER_SIZE": str(1024 * MiB)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    MOTO_PID.append(proc.pid)
    try:
        wait_for_port("127.0.0.1", port, timeout=30)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class PeakRss:
    """Samples a process's resident memory every few milliseconds while running."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.baseline = self.process.memory_info().rss
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(psutil.Error):
                self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.005)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.baseline) / MiB


def file_chunks(path: Path, size: int = 1024 * 1024) -> Iterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(size):
            yield chunk


def upload_through_gateway(client: httpx.Client, gateway: str, token: str, video: Path) -> float:
    auth = {"Authorization": f"Bearer {token}"}
    appeal = client.post(
        f"{gateway}/api/v1/appeals",
        headers=auth,
        json={
            "official_id": "akim",
            "phone": "+77012345678",
            "language": "kk",
            "category": "question",
            "consent": True,
            "full_name": "Бенчмарк Тестұлы",
            "iin": "900101400013",
        },
    ).json()
    started = time.perf_counter()
    response = client.put(
        f"{gateway}{appeal['upload_url']}",
        content=file_chunks(video),  # streamed, no Content-Length: like a live recording
        headers={**auth, "Content-Type": "video/webm"},
        timeout=600,
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 201:
        raise RuntimeError(f"upload failed: {response.status_code} {response.text}")
    return elapsed


def upload_to_media_store(client: httpx.Client, media_store: str, video: Path) -> float:
    """The booth path's second half alone: the video PUT straight into media-store, as the
    gateway sends it, so the gap to a direct put splits into the gateway's hop and the rest."""
    key = f"appeals/{uuid.uuid4().hex}/{uuid.uuid4().hex}.webm"
    started = time.perf_counter()
    response = client.put(
        f"{media_store}/api/v1/media/objects/{key}",
        content=file_chunks(video),
        headers={HEADER: token_for(TEST_SECRET), "Content-Type": "video/webm"},
        timeout=600,
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 201:
        raise RuntimeError(f"upload to media-store failed: {response.status_code} {response.text}")
    return elapsed


def empty_bucket(minio: Minio, bucket: str) -> None:
    for obj in minio.list_objects(bucket, recursive=True):
        if obj.object_name:
            minio.remove_object(bucket, obj.object_name)


def upload_direct(minio: Minio, bucket: str, video: Path, *, parallel: int = 1) -> float:
    """minio's put_object of the file with media-store's part size, `parallel` parts at once."""
    started = time.perf_counter()
    with video.open("rb") as f:
        minio.put_object(
            bucket,
            f"direct/{uuid.uuid4().hex}.webm",
            f,
            length=-1,
            part_size=DEFAULT_PART_SIZE,
            content_type="video/webm",
            num_parallel_uploads=parallel,
        )
    return time.perf_counter() - started


def upload_concurrently(
    n: int,
    minio: Minio,
    bucket: str,
    video: Path,
    gateway: str,
    token: str,
    gateway_pid: int,
    media_pid: int,
) -> tuple[int, float, float, float, float]:
    """(n, seconds for n via the gateway, seconds for n direct, gateway and media-store growth)."""
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        started = time.perf_counter()
        list(pool.map(lambda _: upload_direct(minio, bucket, video, parallel=3), range(n)))
        direct_s = time.perf_counter() - started
        empty_bucket(minio, bucket)
        with (
            httpx.Client(limits=httpx.Limits(max_connections=n)) as client,
            PeakRss(gateway_pid) as gw_mem,
            PeakRss(media_pid) as ms_mem,
        ):
            started = time.perf_counter()
            list(
                pool.map(lambda _: upload_through_gateway(client, gateway, token, video), range(n))
            )
            via_s = time.perf_counter() - started
        empty_bucket(minio, bucket)
    return n, via_s, direct_s, gw_mem.growth_mb, ms_mem.growth_mb


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--concurrent", type=int, default=10, help="uploads at once (0: none)")
    parser.add_argument(
        "--broker",
        choices=("shared", "private"),
        default="shared",
        help="the machine's RabbitMQ on 5672, or a node of the run's own",
    )
    args = parser.parse_args()

    private = None
    if args.broker == "private":
        from dialog_platform.testing.faults import PrivateRabbit

        private = PrivateRabbit(Path(tempfile.mkdtemp(prefix="dialog-bench-rabbit-")))
        private.start()
        rabbit = private.url
    else:
        rabbit = ensure_rabbitmq()
    receiver = OtlpReceiver().start()
    with tempfile.TemporaryDirectory(prefix="dialog-bench-") as tmp_name:
        tmp = Path(tmp_name)
        print(f"making a {args.size_mb} MB WebM …", flush=True)
        video = make_webm_of_size(tmp / "video.webm", args.size_mb * MB)
        size = video.stat().st_size
        with embedded_mongo(tmp / "mongo") as mongo_url, moto_process() as s3:
            bucket = "bench"
            namespace = f"bench{uuid.uuid4().hex[:6]}"
            cluster = Distributed(
                data_dir=tmp / "cluster",
                bus_url=rabbit,
                mongo_url=mongo_url,
                media_url=s3_media_url(s3, bucket),
                namespace=namespace,
                db_prefix=namespace,
                env={"DIALOG_METRICS": "false"},
            )
            namespace_on = f"{namespace}on"
            instrumented = Distributed(
                data_dir=tmp / "instrumented",
                bus_url=rabbit,
                mongo_url=mongo_url,
                media_url=s3_media_url(s3, bucket),
                namespace=namespace_on,
                db_prefix=namespace_on,
                env={"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint},
            )
            try:
                print("starting routing, media-store, kiosk-gateway, twice …", flush=True)
                cluster.start(("routing", "media-store", "kiosk-gateway"))
                instrumented.start(("routing", "media-store", "kiosk-gateway"))
                token = cluster.kiosk_add("bench-booth", "Bench")
                token_on = instrumented.kiosk_add("bench-booth", "Bench")
                gateway_on = instrumented.url("kiosk-gateway")
                via_on: list[float] = []
                minio = Minio(s3, access_key="testing", secret_key="testing-secret", secure=False)
                gateway_pid = cluster.processes["kiosk-gateway"].popen.pid
                media_pid = cluster.processes["media-store"].popen.pid
                via: list[float] = []
                direct: list[float] = []
                direct3: list[float] = []
                to_media: list[float] = []
                cpu_direct: dict[str, list[float]] = collections.defaultdict(list)
                cpu_via: dict[str, list[float]] = collections.defaultdict(list)
                # Memory is measured from before the first upload: what a process grows by
                # to carry uploads, lazy imports (PyAV) included.
                with (
                    httpx.Client() as client,
                    PeakRss(gateway_pid) as gw_mem,
                    PeakRss(media_pid) as ms_mem,
                ):
                    # One warm-up of each path, so connection set-up is not in the timings.
                    upload_direct(minio, bucket, video)
                    upload_through_gateway(client, cluster.url("kiosk-gateway"), token, video)
                    upload_through_gateway(client, gateway_on, token_on, video)
                    empty_bucket(minio, bucket)
                    pids = {
                        "kiosk-gateway": gateway_pid,
                        "media-store": media_pid,
                        "S3 server": MOTO_PID[0],
                        "bench client": os.getpid(),
                    }
                    for run in range(args.runs):
                        if run % 2:  # before the plain one on odd runs: neither always first
                            via_on.append(
                                upload_through_gateway(client, gateway_on, token_on, video)
                            )
                            empty_bucket(minio, bucket)
                        before = {name: cpu_seconds(pid) for name, pid in pids.items()}
                        d = upload_direct(minio, bucket, video)
                        middle = {name: cpu_seconds(pid) for name, pid in pids.items()}
                        g = upload_through_gateway(
                            client, cluster.url("kiosk-gateway"), token, video
                        )
                        after = {name: cpu_seconds(pid) for name, pid in pids.items()}
                        empty_bucket(minio, bucket)
                        if run % 2 == 0:  # after the plain one on even runs
                            via_on.append(
                                upload_through_gateway(client, gateway_on, token_on, video)
                            )
                            empty_bucket(minio, bucket)
                        direct3.append(upload_direct(minio, bucket, video, parallel=3))
                        to_media.append(
                            upload_to_media_store(client, cluster.url("media-store"), video)
                        )
                        for name in pids:
                            cpu_direct[name].append(middle[name] - before[name])
                            cpu_via[name].append(after[name] - middle[name])
                        # moto keeps objects in memory; emptying the bucket gives every run
                        # the same server.
                        empty_bucket(minio, bucket)
                        direct.append(d)
                        via.append(g)
                        print(
                            f"run {run + 1}: direct {size / MB / d:7.1f} MB/s   "
                            f"via gateway {size / MB / g:7.1f} MB/s   "
                            f"instrumented {size / MB / via_on[-1]:7.1f} MB/s",
                            flush=True,
                        )
                concurrent = None
                if args.concurrent:
                    concurrent = upload_concurrently(
                        args.concurrent,
                        minio,
                        bucket,
                        video,
                        cluster.url("kiosk-gateway"),
                        token,
                        gateway_pid,
                        media_pid,
                    )
            finally:
                cluster.stop()
                instrumented.stop()
                receiver.stop()
                import asyncio

                from dialog_platform.testing.fixtures import delete_namespace

                asyncio.run(delete_namespace(rabbit, namespace))
                asyncio.run(delete_namespace(rabbit, namespace_on))
                if private is not None:
                    private.stop()
                    import shutil

                    shutil.rmtree(private.base, ignore_errors=True)

    direct_tp = size / MB / statistics.median(direct)
    via_tp = size / MB / statistics.median(via)
    ratio = via_tp / direct_tp
    print()
    print(
        f"file: {size / MB:.1f} MB real WebM, part size {DEFAULT_PART_SIZE // MiB} MiB, "
        f"{args.runs} alternating runs each (medians)"
    )
    direct3_tp = size / MB / statistics.median(direct3)
    ratio3 = via_tp / direct3_tp
    print(f"direct minio put_object, 3 parts at once:  {direct3_tp:6.1f} MB/s  (minio's default)")
    print(f"direct minio put_object, 1 part at a time: {direct_tp:6.1f} MB/s")
    print(f"booth → gateway → media-store → S3:      {via_tp:8.1f} MB/s")
    media_tp = size / MB / statistics.median(to_media)
    print(
        f"  of which media-store → S3 alone:        {media_tp:6.1f} MB/s  "
        f"({media_tp / direct3_tp:.2f} of the default put_object)"
    )
    print(
        f"ratio (via gateway / default put_object): {ratio3:7.2f}   goal ≥ 0.90 "
        f"{'met' if ratio3 >= 0.9 else 'NOT met'}"
    )
    print(f"ratio (via gateway / 1 part at a time):  {ratio:8.2f}")
    on_tp = size / MB / statistics.median(via_on)
    print(
        f"same, metrics + tracing on (OTLP):      {on_tp:8.1f} MB/s   "
        f"{len(receiver.spans)} spans received"
    )
    print(
        f"ratio (instrumented / plain):            {on_tp / via_tp:8.2f}   goal ≥ 0.95 "
        f"{'met' if on_tp / via_tp >= 0.95 else 'NOT met'}"
    )
    print(
        f"kiosk-gateway peak memory growth:        {gw_mem.growth_mb:8.1f} MB   goal < 64 MB "
        f"{'met' if gw_mem.growth_mb < 64 else 'NOT met'}"
    )
    print(
        f"media-store peak memory growth:          {ms_mem.growth_mb:8.1f} MB   goal < 64 MB "
        f"{'met' if ms_mem.growth_mb < 64 else 'NOT met'}"
    )
    if concurrent is not None:
        n, via_all, direct_all, gw_growth, ms_growth = concurrent
        agg_via, agg_direct = n * size / MB / via_all, n * size / MB / direct_all
        print()
        print(
            f"{n} uploads at once: aggregate {agg_direct:6.1f} MB/s direct put_object, "
            f"{agg_via:6.1f} MB/s via gateway"
        )
        print(
            f"ratio (via gateway / direct, {n} at once): {agg_via / agg_direct:6.2f}   goal ≥ 0.80 "
            f"{'met' if agg_via / agg_direct >= 0.8 else 'NOT met'}"
        )
        for name, growth in (("kiosk-gateway", gw_growth), ("media-store", ms_growth)):
            print(
                f"{name} peak memory growth, {n} at once: {growth:6.1f} MB   goal < 64 MB "
                f"{'met' if growth < 64 else 'NOT met'}"
            )
    print()
    print("CPU seconds per upload (median), by process:   direct   via gateway")
    for name in cpu_via:
        print(
            f"  {name:44s} {statistics.median(cpu_direct[name]):6.2f}   "
            f"{statistics.median(cpu_via[name]):6.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
