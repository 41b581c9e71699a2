"""Backups age out: no dump or mirror keeps what the storage periods destroyed for long.

The cluster's nightly dump runs here as shipped, with `mongodump` stood in by a script that
writes the archive it is asked for (MongoDB's tools are not packaged for Debian); the prune is
the shipped `find`, run on real files with real ages.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

from deploy_support import Doc, of_kind

DAY_S = 86400


def _cron_container(docs: list[Doc], name: str) -> Doc:
    job = of_kind(docs, "CronJob")[name]
    (container,) = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    return container


def _env(container: Doc) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}


def _retention_days(docs: list[Doc]) -> int:
    routing = next(
        d for n, d in of_kind(docs, "ConfigMap").items() if n.startswith("routing-config")
    )
    data = routing["data"]
    return min(
        int(data["DIALOG_ROUTING_RETENTION_VIDEO_DAYS"]),
        int(data["DIALOG_ROUTING_RETENTION_PERSONAL_DAYS"]),
    )


def _aged(path: Path, days: float) -> Path:
    path.write_bytes(b"dump")
    moment = time.time() - days * DAY_S
    os.utime(path, (moment, moment))
    return path


def test_the_nightly_dump_writes_todays_archive_and_deletes_those_past_the_keep_period(
    built: dict[str, list[Doc]], tmp_path: Path
) -> None:
    container = _cron_container(built["cluster"], "mongo-backup")
    env = _env(container)
    keep = int(env["BACKUP_KEEP_DAYS"])
    assert keep < _retention_days(built["cluster"]) / 10
    backups = tmp_path / "backup"
    backups.mkdir()
    old = _aged(backups / "dialog-2020-01-01.archive.gz", keep + 2)
    recent = _aged(backups / "dialog-2020-02-01.archive.gz", keep - 2)
    unrelated = _aged(backups / "notes.txt", keep + 30)
    tools = tmp_path / "bin"
    tools.mkdir()
    stub = tools / "mongodump"
    stub.write_text(
        '#!/bin/sh\nfor a in "$@"; do case "$a" in --archive=*) : > "${a#--archive=}";; '
        'esac; done\necho "$@" > "$BACKUP_DIR/.args"\n'
    )
    stub.chmod(0o755)
    command = container["command"]
    assert command[:2] == ["/bin/sh", "-c"]
    result = subprocess.run(
        command,
        env={**os.environ, **env, "BACKUP_DIR": str(backups), "PATH": f"{tools}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    today = time.strftime("%Y-%m-%d")
    assert (backups / f"dialog-{today}.archive.gz").exists()
    assert not old.exists()
    assert recent.exists() and unrelated.exists()
    args = (backups / ".args").read_text()
    assert "--oplog" in args and "mongo-0.mongo:27017" in args


def test_the_compose_dump_prunes_the_same_way(
    compose: dict[str, Doc], built: dict[str, list[Doc]]
) -> None:
    backup = compose["backup"]
    assert backup["profiles"] == ["backup"]
    script = backup["entrypoint"][-1]
    cluster = _cron_container(built["cluster"], "mongo-backup")["command"][-1]

    def prune(text: str) -> str:
        found = re.search(r"find .*?-delete", text, re.S)
        assert found, text
        return " ".join(found.group(0).split())

    assert prune(script) == prune(cluster)
    assert int(backup["environment"]["BACKUP_KEEP_DAYS"]) <= 35


def test_video_mirrors_drop_what_the_bucket_deleted(
    compose: dict[str, Doc], built: dict[str, list[Doc]]
) -> None:
    # `--remove`: a video destroyed in the bucket is removed from the mirror on the next run.
    compose_script = compose["backup-media"]["entrypoint"][-1]
    cluster_script = _cron_container(built["cluster"], "minio-mirror")["command"][-1]
    for script in (compose_script, cluster_script):
        assert re.search(r"mc mirror --overwrite --remove \S+ /backup/media", script), script


def test_only_the_backup_jobs_reach_the_backends_they_copy(built: dict[str, list[Doc]]) -> None:
    policies = of_kind(built["cluster"], "NetworkPolicy")
    for job, backend, port in (("mongo-backup", "mongo", 27017), ("minio-mirror", "minio", 9000)):
        policy = policies[job]
        assert policy["spec"]["ingress"] == []
        (egress,) = policy["spec"]["egress"]
        assert egress["to"] == [
            {"podSelector": {"matchLabels": {"app.kubernetes.io/name": backend}}}
        ]
        assert egress["ports"] == [{"port": port}]
        allowed = policies[backend]["spec"]["ingress"][0]["from"][0]["podSelector"]
        assert job in allowed["matchExpressions"][0]["values"]
